"""Drive the real uploader as a separate process and judge the result from the outside.

The crash suite never imports :mod:`pipeline.load`: it runs ``python -m pipeline upload`` as a
subprocess (so ``kill -9`` really kills everything the uploader had in memory), lets it talk to
the in-process emulator over a socket, and then compares three independent witnesses — the
emulator's jobs, the emulator's request log and the ledger file — against the invariants of
DESIGN.md §2.

Usage::

    scene = Scene.create(tmp_path, emulator, rows=200, batch_size=20)
    died = scene.upload(crash_at="after_send@3")        # returncode -9
    assert scene.upload().returncode == 0
    scene.assert_exactly_once()
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from click.testing import CliRunner

from pipeline.cli.main import cli
from pipeline.emulator import Emulator
from pipeline.ledger.store.keys import token_fingerprint
from tests.conftest import random_token

KILLED = -signal.SIGKILL  # Popen's returncode for a child that died of SIGKILL
RUN_TIMEOUT_S = 120  # a hung uploader fails the test instead of hanging CI

_NAMES = (
    "Иванов Алексей Петрович",
    "Смирнова Мария Ивановна",
    "Кузнецов Дмитрий Сергеевич",
    "Попова Ольга Николаевна",
    "Соколов Сергей Андреевич",
    "Лебедева Анна Викторовна",
    "Новиков Игорь Олегович",
    "Морозова Татьяна Юрьевна",
)
# Real Russian mobile codes (9xx); every 79xxxxxxxxx is a valid mobile for phonenumbers.
_CODES = (903, 905, 909, 915, 916, 917, 925, 926, 929, 958, 960, 977, 985, 999)

DEFAULT_UPLOAD: dict[str, Any] = {
    "batch_size": 20,
    "concurrency": 1,
    "max_attempts_per_request": 5,
    # Small backoffs keep fault tests fast; they are lower bounds nowhere in our assertions.
    "backoff_base_s": 0.05,
    "backoff_max_s": 0.2,
    "retry_after_cap_s": 10,
    "run_budget_s": 60,
    "key_safety_margin_s": 3600,
}


def make_people(n: int, seed: int) -> list[dict[str, str]]:
    """``n`` rows with distinct Russian mobiles written the ways CRMs write them."""
    rng = random.Random(seed)
    subscribers = rng.sample(range(10_000_000), n)
    people = []
    for i, sub in enumerate(subscribers):
        code = _CODES[sub % len(_CODES)]
        digits = f"7{code}{sub:07d}"
        shown = (
            f"+7 ({code}) {sub // 10_000:03d}-{sub // 100 % 100:02d}-{sub % 100:02d}",
            f"8{code}{sub:07d}",
            f"8 {code} {sub:07d}",
        )[i % 3]
        people.append(
            {
                "phone": digits,
                "shown": shown,
                "name": rng.choice(_NAMES),
                "contract": f"Д-{seed}-{i:06d}",
                "amount": f"{rng.randrange(100, 500_000)}.{rng.randrange(100):02d}",
            }
        )
    return people


def write_csv(path: Path, people: list[dict[str, str]]) -> Path:
    """A semicolon CSV in UTF-8, the way a Russian Excel/1C export usually looks."""
    lines = ["Телефон;ФИО;Договор;Сумма"]
    lines += [f"{p['shown']};{p['name']};{p['contract']};{p['amount']}" for p in people]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_config(path: Path, *, base_url: str, ledger_url: str, **upload: Any) -> Path:
    settings = {**DEFAULT_UPLOAD, **upload}
    timeout = settings.pop("timeout_s", 5)
    body = "\n".join(f"  {key}: {value}" for key, value in settings.items())
    path.write_text(
        f"""version: 1
api:
  base_url: {base_url}
  timeout_s: {timeout}
  connect_timeout_s: 2
ledger:
  url: {ledger_url}
columns:
  phone: Телефон
  payload:
    name: ФИО
    contract: Договор
    amount: {{column: Сумма, type: decimal}}
phone:
  default_region: RU
dedupe:
  key: phone
upload:
{body}
""",
        encoding="utf-8",
    )
    return path


@dataclass
class Scene:
    """One campaign on the emulator, its config, its input file and its ledger file."""

    tmp: Path
    emulator: Emulator
    base_url: str  # kept: the emulator may be stopped for a while (connection refused)
    token: str
    campaign_id: int
    people: list[dict[str, str]]
    csv: Path
    config: Path
    ledger_path: Path
    outputs: list[str] = field(default_factory=list)
    pg_url: str | None = None  # a PostgreSQL ledger instead of the SQLite file

    @classmethod
    def create(
        cls,
        tmp: Path,
        emulator: Emulator,
        *,
        rows: int,
        seed: int = 0,
        token: str | None = None,
        ledger_path: Path | None = None,
        pg_url: str | None = None,
        name: str = "scene",
        **upload: Any,
    ) -> Scene:
        token = token or random_token()
        camp = emulator.create_campaign(token=token, name=name)
        ledger_path = ledger_path or tmp / "ledger.sqlite3"
        people = make_people(rows, seed)
        scene = cls(
            tmp=tmp,
            emulator=emulator,
            base_url=emulator.base_url,
            token=token,
            campaign_id=int(camp["id"]),
            people=people,
            csv=write_csv(tmp / f"{name}-export.csv", people),
            config=tmp / f"{name}.yaml",
            ledger_path=ledger_path,
            pg_url=pg_url,
        )
        scene.configure(**upload)
        return scene

    @property
    def ledger_url(self) -> str:
        return self.pg_url or f"sqlite:///{self.ledger_path}"

    def configure(self, **upload: Any) -> None:
        """(Re)write the config, e.g. with another batch size between runs."""
        write_config(self.config, base_url=self.base_url, ledger_url=self.ledger_url, **upload)

    # ----------------------------------------------------------------- running the uploader
    def env(
        self, crash_at: str | None = None, clock_offset_s: float | None = None
    ) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "PYTHONHASHSEED": "0",
            "JAICP_TOKEN": self.token,
            "JAICP_BASE_URL": self.base_url,
        }
        if crash_at is not None:
            env["JAICP_PIPELINE_CRASH_AT"] = crash_at
        if clock_offset_s is not None:
            env["JAICP_PIPELINE_CLOCK_OFFSET_S"] = str(clock_offset_s)
        return env

    def argv(self, files: list[Path] | None = None) -> list[str]:
        paths = [str(p) for p in (files or [self.csv])]
        return [sys.executable, "-m", "pipeline", "--log-level", "INFO", "upload",
                "--config", str(self.config), "--ledger", self.ledger_url, *paths]  # fmt: skip

    def start(
        self,
        *,
        crash_at: str | None = None,
        clock_offset_s: float | None = None,
        files: list[Path] | None = None,
        stop_at: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> subprocess.Popen[str]:
        env = self.env(crash_at, clock_offset_s)
        if stop_at is not None:
            env["JAICP_PIPELINE_STOP_AT"] = stop_at
        env.update(extra_env or {})
        return subprocess.Popen(
            self.argv(files),
            env=env,
            cwd=self.tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def finish(self, proc: subprocess.Popen[str]) -> subprocess.CompletedProcess[str]:
        try:
            out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(
                f"the uploader hung for {RUN_TIMEOUT_S} s:\n{err[-3000:]}"
            ) from None
        self.check_output(out + err)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def upload(
        self,
        *,
        crash_at: str | None = None,
        clock_offset_s: float | None = None,
        files: list[Path] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run the uploader to its end (or death) and return what it printed."""
        return self.finish(
            self.start(crash_at=crash_at, clock_offset_s=clock_offset_s, files=files)
        )

    def kill_after(
        self, proc: subprocess.Popen[str], delay_s: float
    ) -> subprocess.CompletedProcess[str]:
        """SIGKILL ``proc`` after ``delay_s`` unless it ended first."""
        try:
            proc.wait(timeout=delay_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        return self.finish(proc)

    def check_output(self, text: str) -> None:
        self.outputs.append(text)
        secret = self.token.split(".", 2)[2]
        assert secret not in text, "the campaign token appeared in the uploader's output"

    def describe(self, result: subprocess.CompletedProcess[str]) -> str:
        return (
            f"exit {result.returncode}\nstdout:\n{result.stdout[-2000:]}\n"
            f"stderr:\n{result.stderr[-4000:]}"
        )

    # ----------------------------------------------------------------- ledger access
    def ledger_campaign_id(self, conn: sqlite3.Connection) -> int:
        row = conn.execute(
            "SELECT id FROM campaigns WHERE fingerprint = ?", (token_fingerprint(self.token),)
        ).fetchone()
        assert row is not None, "the ledger has no campaign with this token's fingerprint"
        return int(row[0])

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        """Run ``sql`` with ``:campaign`` bound to this scene's ledger campaign id."""
        if self.pg_url is not None:
            engine = sa.create_engine(self.pg_url)
            try:
                with engine.connect() as pg:
                    camp = pg.execute(
                        sa.text("SELECT id FROM campaigns WHERE fingerprint = :f"),
                        {"f": token_fingerprint(self.token)},
                    ).scalar_one()
                    rows = pg.execute(sa.text(sql), {"campaign": camp}).all()
                    return [tuple(row) for row in rows]
            finally:
                engine.dispose()
        with closing(sqlite3.connect(self.ledger_path)) as conn, conn:
            camp = self.ledger_campaign_id(conn)
            return conn.execute(sql, {"campaign": camp}).fetchall()

    def batch_keys(self) -> dict[str, str]:
        """request key → batch state, for this campaign."""
        return dict(
            self.query("SELECT request_key, state FROM batches WHERE campaign_id = :campaign")
        )

    def verify_exit_code(self) -> tuple[int, str]:
        """``jaicp-pipeline ledger verify`` (in-process: same command, no interpreter start-up)."""
        result = CliRunner().invoke(cli, ["ledger", "verify", "--ledger", self.ledger_url])
        return result.exit_code, result.output

    # ----------------------------------------------------------------- emulator views
    def jobs(self) -> list[dict[str, Any]]:
        return self.emulator.jobs(self.campaign_id)

    def add_phone_requests(self) -> list[dict[str, Any]]:
        return [e for e in self.emulator.requests_log() if e["path"].endswith("/addPhones")]

    # ----------------------------------------------------------------- the invariants
    def assert_exactly_once(self, *, verify: bool = True) -> None:
        """One job per row on the server, none missing, and the ledger agreeing with it
        (``verify=False``: without ``ledger verify``'s own checks)."""
        jobs = self.jobs()
        per_phone = Counter(job["phone"] for job in jobs)
        twice = {phone: n for phone, n in per_phone.items() if n > 1}
        expected = {p["phone"] for p in self.people}
        missing = expected - set(per_phone)
        extra = set(per_phone) - expected
        assert not twice, (
            f"{len(twice)} phone(s) called more than once: {sorted(twice.items())[:5]}"
        )
        assert not missing, f"{len(missing)} row(s) have no job: {sorted(missing)[:5]}"
        assert not extra, f"jobs for phones not in the file: {sorted(extra)[:5]}"
        assert len(jobs) == len(self.people)

        if verify:
            code, output = self.verify_exit_code()
            assert code == 0, f"ledger verify exited {code}:\n{output}"

        sent = self.query(
            "SELECT phone, job_id FROM rows WHERE campaign_id = :campaign AND state = 'sent'"
        )
        ledger_jobs = Counter(phone for phone, _ in sent)
        assert all(n == 1 for n in ledger_jobs.values()), "a phone is marked sent on two rows"
        server = {job["phone"]: str(job["id"]) for job in jobs}
        mine = {phone: str(job_id) for phone, job_id in sent}
        wrong = {
            p: (mine.get(p), server.get(p))
            for p in server.keys() | mine.keys()
            if mine.get(p) != server.get(p)
        }
        assert not wrong, (
            f"ledger job ids (left) differ from the server's (right): {sorted(wrong.items())[:5]}"
        )
        pending = self.query(
            "SELECT count(*) FROM rows "
            "WHERE campaign_id = :campaign AND state IN ('planned', 'batched')"
        )[0][0]
        assert pending == 0, f"{pending} row(s) still pending after a complete run"

    def assert_key_discipline(self) -> None:
        """No key went out with two bodies (DESIGN §2.3) and no request hit a key conflict."""
        bodies: dict[str, set[str]] = {}
        for entry in self.add_phone_requests():
            if entry["idempotenceKey"] is None:
                raise AssertionError("an addPhones request was sent without an idempotence key")
            bodies.setdefault(entry["idempotenceKey"], set()).add(entry["bodySha256"])
            assert entry["status"] != 409, f"idempotence conflict: {entry}"
        reused = {key: shas for key, shas in bodies.items() if len(shas) > 1}
        assert not reused, f"keys sent with different bodies: {reused}"


def is_stopped(pid: int) -> bool:
    """Whether process ``pid`` is stopped (SIGSTOP: state ``T`` in /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "T"


def wait_until(predicate: Any, timeout_s: float = 30.0, step_s: float = 0.02) -> None:
    """Poll ``predicate`` (a condition, not a duration: the test never asserts on time)."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout_s} s")
        time.sleep(step_s)
