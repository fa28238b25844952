"""Layers without cycles: every import in bot/ and telephony/ goes down the layers below, never up.

A *unit* is a package of bot/ (bot/leads/, bot/channels/web/ ...), a top-level module of bot/
(bot/flows.py), or telephony/ (the vendor adapter package). The layers, top to bottom; a unit imports only
itself and units of LOWER layers (never a sibling of its own layer), and no unit imports an entry module:

    entry          the composition root and every way in: bot/app.py, bot/cli/, bot/deps.py,
                   bot/error_handlers.py, bot/runtime/, bot/console/, each unit's views.py, cli.py and
                   routes.py, and telephony's Twilio simulator (a dev tool). Entry modules may import anything,
                   with two rules: no import cycle among them, and a router never imports another
                   unit's router (shared request dependencies live in bot/deps.py).
    orchestration  actions (Rasa's custom actions), advisor_links, roleplay, observability
    channels       flows (the dialogue's cross-domain work), channels.web, channels.wecom, channels.voice
    adapters       telephony (the Twilio adapter: it implements campaigns' call-provider interface, so it sits
                   above campaigns; the voice channel checks webhooks with its signature, so it sits below the
                   channels, and it never imports the voice channel)
    services       campaigns (owns the call-provider interface), dialogue (the gateway), messaging
    domains        knowledge, leads, kyc, advice
    rules          compliance, contacts
    shared         catalogue, core (messages, citations, identity, audit sink, masking)
    settings       settings, db, limits, models_registry
    foundation     errors, language

Every import counts: at module level, inside functions and under TYPE_CHECKING. EXCEPTIONS lists, with
its reason, each import allowed against these rules.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("orchestration", frozenset({"bot.actions", "bot.advisor_links", "bot.roleplay", "bot.observability"})),
    ("channels", frozenset({"bot.flows", "bot.channels.web", "bot.channels.wecom", "bot.channels.voice"})),
    ("adapters", frozenset({"telephony"})),
    ("services", frozenset({"bot.campaigns", "bot.dialogue", "bot.messaging"})),
    ("domains", frozenset({"bot.knowledge", "bot.leads", "bot.kyc", "bot.advice"})),
    ("rules", frozenset({"bot.compliance", "bot.contacts"})),
    ("shared", frozenset({"bot.catalogue", "bot.core"})),
    ("settings", frozenset({"bot.settings", "bot.db", "bot.limits", "bot.models_registry"})),
    ("foundation", frozenset({"bot.errors", "bot.language", "bot", "bot.channels"})),
)
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("bot.channels.wecom", "bot.channels.wecom.views"): (
        "the WeCom package's face re-exports its router (a public surface pinned by "
        "tests/wecom/test_public_surface.py); left while the WeCom channel changes in parallel"
    ),
}
ENTRY_UNITS = frozenset({"bot.app", "bot.cli", "bot.deps", "bot.error_handlers", "bot.runtime", "bot.console"})
ENTRY_MODULES = frozenset({"views", "cli", "routes"})
ROUTERS = frozenset({"views", "routes"})
SKIPPED = ("bot/rasa_project/", "bot/migrations/")  # Rasa's own runtime; Alembic scripts


def unit(module: str) -> str:
    """bot.leads.service -> bot.leads; bot.channels.web.views -> bot.channels.web; telephony.x -> telephony."""
    parts = module.split(".")
    if parts[0] == "telephony" or len(parts) == 1:
        return parts[0]
    if parts[1] == "channels" and len(parts) > 2:
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def is_entry(module: str) -> bool:
    return (
        unit(module) in ENTRY_UNITS
        or module.rsplit(".", 1)[-1] in ENTRY_MODULES
        or module.startswith("telephony.simulator")
    )


def layer(module: str) -> int:
    """0 for entry modules; 1.. down the LAYERS."""
    if is_entry(module):
        return 0
    found = [i for i, (_, units) in enumerate(LAYERS, start=1) if unit(module) in units]
    assert found, f"{unit(module)} is in no layer: add it to LAYERS in {Path(__file__).name}"
    return found[0]


def modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted([*REPO.glob("bot/**/*.py"), *REPO.glob("telephony/**/*.py")]):
        relative = path.relative_to(REPO).as_posix()
        if relative.startswith(SKIPPED):
            continue
        name = relative.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        found[name] = path
    return found


def imports(name: str, path: Path) -> Iterator[str]:
    """Our modules `name` imports (`from bot.x import y` counts as bot.x.y when that is a module)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            if target.split(".")[0] in ("bot", "telephony"):
                yield target


def edges(*, excepted: bool = True) -> list[tuple[str, str]]:
    """(importer, imported module) for every import of our own code, resolved to a known module; without
    the EXCEPTIONS unless `excepted` is False."""
    known = modules()
    found = set()
    for name, path in known.items():
        for target in imports(name, path):
            while target not in known and "." in target:
                target = target.rsplit(".", 1)[0]
            if target in known and target != name and not (excepted and (name, target) in EXCEPTIONS):
                found.add((name, target))
    return sorted(found)


def node(module: str) -> str:
    """A unit for cycle finding; each entry module stands alone."""
    return module if is_entry(module) else unit(module)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_import_goes_down_the_layers() -> None:
    upward = [
        f"{a} ({LAYERS[layer(a) - 1][0]}) imports {b} ({'entry' if is_entry(b) else LAYERS[layer(b) - 1][0]})"
        for a, b in edges()
        if not is_entry(a) and unit(a) != unit(b) and layer(b) <= layer(a)
    ]
    into_entry = [f"{a} imports {b}" for a, b in edges() if not is_entry(a) and unit(a) == unit(b) and is_entry(b)]
    assert upward == [] and into_entry == []


def test_no_cycles_between_units_or_entry_modules() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges():
        if node(a) != node(b):
            graph[node(a)].add(node(b))
    assert cycles(graph) == []


def test_routers_share_dependencies_through_bot_deps_not_through_each_other() -> None:
    crossing = [
        f"{a} imports {b}"
        for a, b in edges()
        if a.rsplit(".", 1)[-1] in ROUTERS and b.rsplit(".", 1)[-1] in ROUTERS and unit(a) != unit(b)
    ]
    assert crossing == []


def test_the_vendor_package_never_imports_the_voice_channel() -> None:
    """Also its entry modules (the simulator, the CLI): the simulator plays Twilio, so it may know only what
    Twilio knows (the signature scheme), never the channel it calls over HTTP."""
    crossing = [f"{a} imports {b}" for a, b in edges() if unit(a) == "telephony" and unit(b) == "bot.channels.voice"]
    assert crossing == []


def test_the_walk_sees_the_code() -> None:
    """Guards the test itself: it must find the imports it judges, including lazy ones."""
    found = set(edges())
    assert ("bot.flows", "bot.leads.scoring") in found
    assert ("bot.app", "bot.knowledge.service") in found  # imported inside the lifespan
    assert ("bot.channels.voice.webhook", "telephony.signature") in found  # the channel above the adapter
    assert ("telephony.twilio_provider", "bot.campaigns.provider") in found  # the adapter above campaigns
    assert {unit(m) for m in modules() if not is_entry(m)} <= {u for _, units in LAYERS for u in units}
    assert set(EXCEPTIONS) <= set(edges(excepted=False))  # an exception that no longer applies goes
