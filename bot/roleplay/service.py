"""Training sessions end to end: start, converse, score, and the history behind the team view.

The scripted engine is the source of truth for what the client knows: every turn replays the
advisor's messages under the session's seed (cheap: the NLU memoises), so no engine state is
stored and a session resumes identically after a restart. With an LLM configured, the client's
words come from the model, falling back to the scripted line for any turn the model fails.
Database work runs in worker threads; LLM calls are awaited.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence

from sqlalchemy import Engine as DBEngine
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, migrate, session_factory, transaction
from bot.errors import ConfigError, Conflict, LLMUnavailable
from bot.roleplay import store
from bot.roleplay.catalogue import load_catalogue
from bot.roleplay.engine import ClientState, ScriptedClient, Step, load_replies
from bot.roleplay.judge import Judge
from bot.roleplay.llm import ChatModel, PersonaVoice, RoleplayPrompts, build_chat_model
from bot.roleplay.models import TrainingSession
from bot.roleplay.nlu import Recogniser
from bot.roleplay.personas import Persona, PersonaBook, PersonaCard
from bot.roleplay.rubric import Rubric
from bot.roleplay.schemas import (
    AdvisorAverage,
    CriterionAverage,
    Engine,
    ReplyView,
    Report,
    SessionSummary,
    SessionView,
    TeamView,
    TranscriptTurn,
    TurnView,
    ViolationCount,
)
from bot.roleplay.scoring import Scorer
from bot.settings import Settings


class TooManyTurns(Conflict):
    """The session reached roleplay.max_turns; it must be ended and scored."""


class TrainingService:
    """Role-play sessions for advisors, backed by the shared database."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session] | None,
        personas: PersonaBook,
        recogniser: Recogniser,
        scorer: Scorer,
        replies: dict[str, dict[str, list[str]]],
        model: ChatModel | None = None,
        prompts: RoleplayPrompts | None = None,
        use_llm: bool = True,
        use_judge: bool = True,
        max_reply_chars: int = 240,
        max_turns: int = 40,
        engine: DBEngine | None = None,
    ) -> None:
        self.personas = personas
        self._sessions = sessions
        self._recogniser = recogniser
        self._scorer = scorer
        self._replies = replies
        self._model = model
        self._voice = PersonaVoice(model, prompts, max_chars=max_reply_chars) if model and prompts and use_llm else None
        self._judge = Judge(model, prompts) if model and prompts and use_judge else None
        self._max_turns = max_turns
        self._engine = engine  # disposed on close when this service created it
        self._clients: dict[str, ScriptedClient] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        sessions: sessionmaker[Session] | None = None,
        model: ChatModel | None = None,
        database: bool = True,
    ) -> TrainingService:
        """Build from settings; without ``sessions`` it opens (and migrates) its own database,
        unless ``database`` is False (scoring transcripts needs none)."""
        rp = settings.roleplay
        catalogue = load_catalogue(settings.knowledge.source_dir / "products.yml")
        recogniser = Recogniser(catalogue)
        engine = None
        if sessions is None and database:
            migrate(settings.database_url)
            engine = make_engine(settings.database_url)
            sessions = session_factory(engine)
        model = model or build_chat_model(settings.llm, rp)
        prompts = RoleplayPrompts(settings.llm.prompts_dir, rp.prompt_version) if model else None
        return cls(
            sessions=sessions,
            personas=PersonaBook.load(rp.personas_dir, default_id=rp.default_persona),
            recogniser=recogniser,
            scorer=Scorer(recogniser, catalogue, Rubric.load()),
            replies=load_replies(),
            model=model,
            prompts=prompts,
            use_llm=rp.use_llm,
            use_judge=rp.judge,
            max_reply_chars=rp.max_reply_chars,
            max_turns=rp.max_turns,
            engine=engine,
        )

    @property
    def engine_name(self) -> str:
        return "llm" if self._voice else "scripted"

    async def aclose(self) -> None:
        if self._model is not None:
            await self._model.aclose()
        if self._engine is not None:
            self._engine.dispose()

    def cards(self) -> list[PersonaCard]:
        """Personas a trainee can pick, default (neutral) last."""
        ids = sorted(self.personas, key=lambda pid: (pid == self.personas.default_id, pid))
        return [self.personas[pid].card() for pid in ids]

    def client(self, persona: Persona) -> ScriptedClient:
        if persona.id not in self._clients:
            self._clients[persona.id] = ScriptedClient(persona, self._recogniser, self._replies)
        return self._clients[persona.id]

    def _db(self) -> sessionmaker[Session]:
        if self._sessions is None:
            raise ConfigError("this training service was built without a database")
        return self._sessions

    def _lock(self, session_id: str) -> asyncio.Lock:
        return self._locks.setdefault(session_id, asyncio.Lock())

    async def start(self, *, persona_id: str, advisor_id: str, seed: int | None = None) -> SessionView:
        """A new session; the client's opening line is always scripted (reproducible under the seed)."""
        persona = self.personas.get_persona(persona_id)
        seed = secrets.randbelow(2**31) if seed is None else seed
        _, opening = self.client(persona).opening(seed)
        session_id = secrets.token_hex(16)

        def write() -> None:
            with transaction(self._db()) as db:
                store.create_session(
                    db,
                    session_id=session_id,
                    advisor_id=advisor_id,
                    persona_id=persona.id,
                    seed=seed,
                    language=persona.language,
                )
                db.flush()
                store.add_turns(db, session_id=session_id, items=[("client", opening.text, "scripted")])

        await asyncio.to_thread(write)
        return await self.get(session_id)

    async def say(self, session_id: str, text: str) -> ReplyView:
        """The client's reply to one advisor message (stored with it)."""
        async with self._lock(session_id):
            row, turns = await asyncio.to_thread(self._load, session_id, True)
            advisor = [t.text for t in turns if t.role == "advisor"]
            if len(advisor) >= self._max_turns:
                raise TooManyTurns(f"this session reached {self._max_turns} messages; end it to get the score")
            persona = self.personas.get_persona(row.persona_id)
            client = self.client(persona)

            def plan() -> tuple[ClientState, Step]:
                state, _ = client.replay(row.seed, advisor)
                return state, client.step(state, text, row.seed)

            state, step = await asyncio.to_thread(plan)
            reply, fallback = step.text, False
            engine: Engine = "scripted"
            if self._voice is not None:
                history = [TranscriptTurn(role=t.role, text=t.text) for t in turns]
                history.append(TranscriptTurn(role="advisor", text=text))
                try:
                    reply = await self._voice.speak(persona, state, step, history)
                    engine = "llm"
                except LLMUnavailable:
                    fallback = True
            position = turns[-1].position + 2 if turns else 1

            def write() -> None:
                with transaction(self._db()) as db:
                    store.active_session(db, session_id=session_id)
                    store.add_turns(
                        db, session_id=session_id, items=[("advisor", text, None), ("client", reply, engine)]
                    )

            await asyncio.to_thread(write)
        return ReplyView(
            reply=TurnView(position=position, role="client", text=reply, engine=engine),
            moves=sorted(step.analysis.moves) if step.analysis else [],
            fallback=fallback,
            finished=state.closed,
        )

    async def end(self, session_id: str) -> Report:
        """Score the session, store the report, and close it."""
        async with self._lock(session_id):
            row, turns = await asyncio.to_thread(self._load, session_id, True)
            persona = self.personas.get_persona(row.persona_id)
            transcript = [TranscriptTurn(role=t.role, text=t.text) for t in turns]
            report = await self.score(transcript, persona_id=persona.id)
            report = report.model_copy(update={"session_id": session_id, "advisor_id": row.advisor_id})

            def write() -> None:
                with transaction(self._db()) as db:
                    store.save_report(db, session_id=session_id, report=report)

            await asyncio.to_thread(write)
        self._locks.pop(session_id, None)
        return report

    async def score(self, turns: Sequence[TranscriptTurn], *, persona_id: str | None = None) -> Report:
        """Score any transcript (no database): deterministic checks, then judge comments if configured."""
        persona = self.personas.get_persona(persona_id)
        report = await asyncio.to_thread(self._scorer.score, turns, persona, self.client(persona))
        if self._judge is not None and turns:
            report = await self._judge.annotate(report, persona, turns)
        return report

    async def get(self, session_id: str) -> SessionView:
        """A session with its transcript and, once ended, its report."""
        row, turns = await asyncio.to_thread(self._load, session_id, False)
        persona = self.personas.get_persona(row.persona_id)
        return SessionView(
            session_id=row.id,
            advisor_id=row.advisor_id,
            persona=persona.card(),
            language=persona.language,
            seed=row.seed,
            status=row.status,  # type: ignore[arg-type]
            started_at=row.started_at,
            ended_at=row.ended_at,
            turns=[TurnView(position=t.position, role=t.role, text=t.text, engine=t.engine) for t in turns],  # type: ignore[arg-type]
            report=Report.model_validate_json(row.report_json) if row.report_json else None,
        )

    async def advisor_of(self, session_id: str) -> str:
        """Whose session this is (UnknownSession if none)."""

        def read() -> str:
            with self._db()() as db:
                return store.get_session(db, session_id=session_id).advisor_id

        return await asyncio.to_thread(read)

    async def history(self, advisor_id: str) -> list[SessionSummary]:
        """An advisor's sessions, newest first."""

        def read() -> list[SessionSummary]:
            with self._db()() as db:
                return store.history(db, advisor_id=advisor_id)

        return await asyncio.to_thread(read)

    async def team(self, advisor_ids: Sequence[str] = ()) -> TeamView:
        """Average score per criterion and the most frequent violations (optionally for some advisors)."""

        def read() -> tuple[int, list[AdvisorAverage], list[store.CriterionRow], list[ViolationCount]]:
            with self._db()() as db:
                return store.team_aggregates(db, advisor_ids=advisor_ids)

        count, advisors, rows, violations = await asyncio.to_thread(read)
        by_id = {r.criterion: r for r in rows}
        criteria = [
            CriterionAverage(
                id=cid,
                name=spec.name,
                name_en=spec.name_en,
                average=by_id[cid].average,
                max=spec.max,
                pass_rate=by_id[cid].pass_rate,
                sessions=by_id[cid].sessions,
            )
            for cid, spec in self._scorer.rubric.criteria.items()
            if cid in by_id
        ]
        return TeamView(sessions=count, advisors=advisors, criteria=criteria, top_violations=violations)

    def _load(self, session_id: str, active: bool) -> tuple[TrainingSession, list[store.StoredTurn]]:
        with self._db()() as db:
            row = (store.active_session if active else store.get_session)(db, session_id=session_id)
            return row, store.turns(db, session_id=session_id)
