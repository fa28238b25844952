"""Reading a campaign's client list (CSV) into columns, with a validation verdict for every row.

Columnar on purpose: a million rows as a dozen lists costs a fraction of a million dicts, and planning
turns the columns straight into numpy arrays. A bad row is kept with its reasons, never dropped.
Each reason is "code: what was wrong (the allowed values)", so a person can fix the file from it;
the code before the colon is what summaries count. A sample file: bot/campaigns/examples/clients.csv.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bot.errors import InputError

COLUMNS = (
    "client_id", "name", "phone", "language", "consent_call", "consent_date", "last_activity_date",
    "aum_band", "payroll_day", "risk_level", "tags", "advisor_id",
)  # fmt: skip
REQUIRED_COLUMNS = frozenset(COLUMNS) - {"tags", "advisor_id", "payroll_day", "risk_level"}
# E.164: '+', a country code not starting with 0, at most 15 digits in all; at least 8 (shortest real numbers).
_E164 = re.compile(r"\+[1-9]\d{7,14}")
_CN_MOBILE = re.compile(r"\+861[3-9]\d{9}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RISK = frozenset({"C1", "C2", "C3", "C4", "C5"})
_YES, _NO = frozenset({"yes", "y", "是"}), frozenset({"no", "n", "否"})
_CONSENT = _YES | _NO
_LANGUAGES = frozenset({"zh", "en"})
MAX_LEN = {"client_id": 128, "name": 128, "phone": 32, "tags": 512, "advisor_id": 64}
EXPECTED_PHONE = "E.164 with the country code, e.g. +8613812345678 (mainland mobiles: 11 digits) or +85291234567"
EXPECTED_CONSENT = "yes, no, y, n, 是, 否"


def _shown(value: str) -> str:
    """A value quoted for a reason text: short, and without the ';' that separates reasons."""
    short = value if len(value) <= 24 else value[:24] + "…"
    return "'" + short.replace(";", ",") + "'"


def _problem(code: str, detail: str) -> str:
    return f"{code}: {detail}"


def valid_e164(phone: str) -> bool:
    """Strict E.164; mainland numbers must also be 11-digit mobiles (+86 1xx xxxx xxxx) or landlines."""
    if not _E164.fullmatch(phone):
        return False
    return not (phone.startswith("+861") and not _CN_MOBILE.fullmatch(phone))


@dataclass
class ImportedRows:
    """The file's rows as columns (raw text for rejected rows), and each row's problems."""

    row_no: list[int] = field(default_factory=list)
    client_id: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    phone: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    consent: list[bool] = field(default_factory=list)
    consent_date: list[date | None] = field(default_factory=list)
    last_activity: list[date | None] = field(default_factory=list)
    aum_band: list[str] = field(default_factory=list)
    payroll_day: list[int] = field(default_factory=list)  # 0 = not a payroll client
    risk_level: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    advisor_id: list[str] = field(default_factory=list)
    problems: list[tuple[str, ...]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.row_no)

    def rejected_counts(self) -> Counter[str]:
        return Counter(problem.split(":", 1)[0] for row in self.problems for problem in row)


class RowValidator:
    """Validates one row at a time, remembering ids and phones already accepted (duplicates)."""

    def __init__(self, *, today: date, aum_bands: Iterable[str]) -> None:
        self.today = today
        self.aum_bands = frozenset(aum_bands)
        self._allowed_bands = ", ".join(aum_bands)
        self._seen_ids: dict[str, int] = {}
        self._seen_phones: dict[str, int] = {}
        self._intern: dict[str, str] = {}
        self._dates: dict[str, date | str] = {}

    def _date(self, value: str, name: str, problems: list[str], *, required: bool) -> date | None:
        if not value:
            if required:
                problems.append(_problem(f"missing_{name}", "required (YYYY-MM-DD)"))
            return None
        parsed = self._dates.get(value)
        if parsed is None:  # dates repeat a lot: parse each distinct text once
            try:
                parsed = date.fromisoformat(value) if _DATE.fullmatch(value) else "bad_date"
            except ValueError:
                parsed = "bad_date"
            if isinstance(parsed, date) and parsed > self.today:
                parsed = "future_date"
            self._dates[value] = parsed
        if isinstance(parsed, str):
            expected = "expected YYYY-MM-DD" if parsed == "bad_date" else f"after today, {self.today}"
            problems.append(_problem(parsed, f"{name} {_shown(value)} ({expected})"))
            return None if parsed == "bad_date" else date.fromisoformat(value)
        return parsed

    def add(self, rows: ImportedRows, row_no: int, raw: list[str], *, problems_: tuple[str, ...] = ()) -> None:
        """Validate `raw` (the row's fields in COLUMNS order) and append it to `rows`."""
        problems: list[str] = list(problems_)
        intern = self._intern.setdefault
        client_id, name, phone, language, consent, consent_date, last, aum, payroll, risk, tags, advisor = map(
            str.strip, raw
        )
        for column, value in (("client_id", client_id), ("name", name)):
            if not value:
                problems.append(_problem(f"missing_{column}", "required"))
            elif len(value) > MAX_LEN[column]:
                problems.append(_problem("too_long", f"{column} (at most {MAX_LEN[column]} characters)"))
        if not phone:
            problems.append(_problem("missing_phone", f"required: {EXPECTED_PHONE}"))
        elif not valid_e164(phone):
            problems.append(_problem("bad_phone", f"expected {EXPECTED_PHONE}"))
        if language not in _LANGUAGES:
            if language.lower() in _LANGUAGES:
                language = language.lower()
            else:
                problems.append(_problem("bad_language", f"{_shown(language)} (allowed: zh, en)"))
        consent_l = consent if consent in _CONSENT else consent.lower()
        if not consent_l:
            problems.append(_problem("missing_consent", f"consent_call is required: {EXPECTED_CONSENT}"))
        elif consent_l not in _CONSENT:
            problems.append(_problem("bad_consent", f"consent_call {_shown(consent)} (allowed: {EXPECTED_CONSENT})"))
        consented = consent_l in _YES
        parsed_consent = self._date(consent_date, "consent_date", problems, required=consented)
        parsed_last = self._date(last, "last_activity_date", problems, required=True)
        if aum not in self.aum_bands:
            problems.append(_problem("bad_aum_band", f"{_shown(aum)} (allowed: {self._allowed_bands})"))
        payroll_day = 0
        if payroll:
            payroll_day = int(payroll) if payroll.isdigit() else -1
            if not 1 <= payroll_day <= 31:
                problems.append(_problem("bad_payroll_day", f"{_shown(payroll)} (allowed: 1-31, or empty)"))
                payroll_day = 0
        if risk and risk not in _RISK:
            if risk.upper() in _RISK:
                risk = risk.upper()
            else:
                problems.append(_problem("bad_risk_level", f"{_shown(risk)} (allowed: C1-C5, or empty)"))
        for column, value in (("tags", tags), ("advisor_id", advisor)):
            if len(value) > MAX_LEN[column]:
                problems.append(_problem("too_long", f"{column} (at most {MAX_LEN[column]} characters)"))
        if not problems:
            if client_id in self._seen_ids:
                problems.append(_problem("duplicate_client_id", f"same client_id as row {self._seen_ids[client_id]}"))
            elif phone in self._seen_phones:
                problems.append(_problem("duplicate_phone", f"same phone as row {self._seen_phones[phone]}"))
            else:
                self._seen_ids[client_id] = row_no
                self._seen_phones[phone] = row_no
        rows.row_no.append(row_no)
        rows.client_id.append(client_id[:128])
        rows.name.append(name[:128])
        rows.phone.append(phone[:32])
        rows.language.append(intern(language[:8], language[:8]))
        rows.consent.append(consented)
        rows.consent_date.append(parsed_consent)
        rows.last_activity.append(parsed_last)
        rows.aum_band.append(intern(aum[:32], aum[:32]))
        rows.payroll_day.append(payroll_day)
        rows.risk_level.append(intern(risk[:8], risk[:8]))
        rows.tags.append(intern(tags[:512], tags[:512]) if len(tags) < 40 else tags[:512])
        rows.advisor_id.append(intern(advisor[:64], advisor[:64]))
        rows.problems.append(tuple(problems) if problems else ())


def read_rows(lines: Iterable[str], *, today: date, aum_bands: Iterable[str]) -> ImportedRows:
    """Parse and validate CSV text lines (header first). A missing column fails the whole file."""
    reader: Iterator[list[str]] = csv.reader(lines)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InputError("the client file is empty (expected a header row: " + ",".join(COLUMNS) + ")") from None
    missing = [c for c in COLUMNS if c not in header and c in REQUIRED_COLUMNS]
    if missing:
        raise InputError(f"the client file lacks column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}")
    index = [header.index(c) if c in header else -1 for c in COLUMNS]
    rows = ImportedRows()
    extra = [h for h in header if h not in COLUMNS]
    if extra:
        rows.notes.append(f"ignored unknown column(s): {', '.join(extra)}")
    validator = RowValidator(today=today, aum_bands=aum_bands)
    width = len(header)
    in_order = tuple(header) == COLUMNS
    for row_no, record in enumerate(reader, start=2):
        if not any(cell.strip() for cell in record):
            continue  # blank line
        if len(record) != width:
            padded = (record + [""] * width)[:width]
            problem = (_problem("bad_row", f"{len(record)} fields, expected {width} like the header"),)
            validator.add(rows, row_no, [padded[i] if i >= 0 else "" for i in index], problems_=problem)
            continue
        validator.add(rows, row_no, record if in_order else [record[i] if i >= 0 else "" for i in index])
    return rows


def read_file(path: Path, *, today: date, aum_bands: Iterable[str]) -> ImportedRows:
    """Read a UTF-8 (optionally BOM-prefixed) CSV file; an undecodable file is refused as a whole."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return read_rows(handle, today=today, aum_bands=aum_bands)
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
