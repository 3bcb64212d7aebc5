"""``svidok log``: the custody log's key, checkpoints, timestamps, proofs and events."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import select

from svidok.cli_common import EXIT_FAILED, JsonOpt, fail, opened
from svidok.custody import checkpoints as cps
from svidok.custody import log
from svidok.custody.proofs import Event, events_of
from svidok.db.schema import custody_events, items
from svidok.home import Home
from svidok.locker import records
from svidok.output import emit_json, err, out, safe, table

log_app = typer.Typer(help="The custody log: key, checkpoints, timestamps, proofs.",
                      no_args_is_help=True)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _checkpoint_json(cp: cps.Checkpoint) -> dict[str, Any]:
    return {"id": cp.id, "size": cp.size, "root": _b64(cp.root),
            "created_at": cp.created_at.isoformat(), "stamped": cp.stamped,
            "stamps": cp.stamps, "stamp_error": cp.stamp_error, "note": cp.note}


def _stamp_lines(report: cps.StampReport, configured: bool) -> None:
    if not configured:
        out.print("Not timestamped: no TSA is configured (tsa_urls in svidok.toml).")
        return
    for error in report.errors:
        err.print(safe(f"Timestamp failed: {error}"), style="yellow")
    if report.unstamped:
        out.print(f"{report.unstamped} checkpoint(s) wait for a timestamp; "
                  "'svidok log stamp' tries again.")


@log_app.command("key")
def key_cmd(as_json: JsonOpt = False) -> None:
    """Print the verifier key: publish it so anyone can check checkpoints and proofs."""
    with opened(as_json) as home:
        vkey = log.verifier(home).vkey
    if as_json:
        emit_json({"verifier_key": vkey})
    else:
        print(vkey)


@log_app.command("checkpoint")
def checkpoint_cmd(as_json: JsonOpt = False) -> None:
    """Sign the log's current head (C2SP checkpoint) and ask the TSAs to timestamp it."""
    with opened(as_json) as home:
        result = log.checkpoint(home)
        configured = bool(home.settings.tsa_urls)
    cp = result.checkpoint
    if as_json:
        emit_json({"new": result.new, **_checkpoint_json(cp),
                   "stamp_errors": result.stamps.errors})
        return
    verb = "Signed" if result.new else "Already signed"
    out.print(f"{verb} checkpoint {cp.id}: {cp.size} events, root {_b64(cp.root)}"
              f"{'' if cp.stamped else ' (unstamped)'}")
    _stamp_lines(result.stamps, configured)


@log_app.command("stamp")
def stamp_cmd(as_json: JsonOpt = False) -> None:
    """Timestamp checkpoints that have no RFC 3161 timestamp yet."""
    with opened(as_json) as home:
        if not home.settings.tsa_urls:
            fail("no TSA is configured: set tsa_urls in svidok.toml "
                 "(see docs/configuration.md)", as_json)
        report = log.stamp(home)
    if as_json:
        emit_json({"stamped": report.stamped, "errors": report.errors,
                   "unstamped": report.unstamped})
    else:
        out.print(f"Stamped {len(report.stamped)} checkpoint(s).")
        _stamp_lines(report, True)
    if report.unstamped:
        raise typer.Exit(EXIT_FAILED)


@log_app.command("checkpoints")
def checkpoints_cmd(
    limit: Annotated[int, typer.Option(min=1, help="Show the newest this many.")] = 20,
    as_json: JsonOpt = False,
) -> None:
    """List checkpoints, newest first."""
    with opened(as_json) as home, home.engine.connect() as conn:
        found = list(reversed(cps.all_checkpoints(conn)))[:limit]
    if as_json:
        emit_json([_checkpoint_json(cp) for cp in found])
        return
    out.print(table("Checkpoints", ["id", "events", "root", "signed (UTC)", "timestamp"], [
        [cp.id, cp.size, _b64(cp.root)[:16] + "…", cp.created_at.isoformat()[:19],
         f"{cp.stamps} stamp(s)" if cp.stamped else "unstamped"] for cp in found]))


def _sha_of(home: Home, ref: str, as_json: bool) -> tuple[str, str | None]:
    """What the item's capture names: its original's SHA-256, or for a record read out of
    a container (a message) its record's, with the record itself."""
    item = records.find_item(home, ref)
    if item is None:
        fail(f"no item {ref!r}: give an item id or at least 8 hex digits of its SHA-256",
             as_json)
    if item.get("sha256"):
        return str(item["sha256"]), None
    if item.get("record_sha256") and item.get("state") == "stored":
        with home.engine.connect() as conn:  # the exact text, not the parsed fields
            record = conn.execute(select(items.c.record).where(
                items.c.id == item["id"])).scalar_one()
        return str(item["record_sha256"]), str(record)
    fail(f"item {item['id']} holds no original ({item['state']})", as_json)


def _write(path: Path, data: bytes) -> None:
    """Write a whole file or none of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@log_app.command("prove")
def prove_cmd(
    item: Annotated[str, typer.Argument(help="Item id or SHA-256 (prefix of 8+ hex digits).")],
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Write the bundle here (and its timestamp to FILE.tsr) "
                      "instead of printing it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Write a C2SP tlog-proof bundle for the item's capture, for verifier/svidok_verify.py."""
    with opened(as_json) as home:
        sha, record = _sha_of(home, item, as_json)
        proof = log.prove(home, sha)
    stamp_file = record_file = None
    if out_file is not None:
        try:
            _write(out_file, proof.bundle.encode())
            if record is not None:
                # The record is what the capture names: the verifier checks it as the
                # original (--original FILE.record.json).
                record_file = out_file.with_name(out_file.name + ".record.json")
                _write(record_file, record.encode())
            if proof.stamps:
                stamp_file = out_file.with_name(out_file.name + ".tsr")
                _write(stamp_file, proof.stamps[-1][1])
        except OSError as exc:
            fail(f"cannot write {out_file}: {exc.strerror}", as_json)
    if as_json:
        emit_json({"sha256": proof.sha256, "index": proof.index,
                   "checkpoint": _checkpoint_json(proof.checkpoint),
                   "bundle": proof.bundle if out_file is None else None,
                   "out": str(out_file) if out_file else None,
                   "timestamp": str(stamp_file) if stamp_file else None,
                   "record": (str(record_file) if record_file else record)})
    elif out_file is None:
        print(proof.bundle, end="")
    else:
        out.print(safe(f"Wrote {out_file}: capture of {proof.sha256} is event {proof.index} "
                       f"of {proof.checkpoint.size} (checkpoint {proof.checkpoint.id})."))
        if record_file:
            out.print(safe(f"Wrote {record_file}: the item's record, which its capture "
                           "names (give it to the verifier as --original)."))
        if stamp_file:
            out.print(safe(f"Wrote {stamp_file}: the checkpoint's RFC 3161 timestamp."))
        else:
            out.print("The checkpoint has no timestamp yet ('svidok log stamp').")
        out.print(safe("Check it with: python3 verifier/svidok_verify.py "
                       f"{out_file} --key \"$(svidok log key)\""))


def _event_json(e: Event) -> dict[str, Any]:
    return {"seq": e.seq, "action": e.action, "sha256": e.sha256, "record": e.body}


@log_app.command("events")
def events_cmd(
    item: Annotated[str | None, typer.Argument(help="Only this item's events.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="Show the newest this many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List custody events, newest first (each as recorded in the log)."""
    with opened(as_json) as home:
        sha = _sha_of(home, item, as_json)[0] if item is not None else None
        with home.engine.connect() as conn:
            if sha is not None:
                found = list(reversed(events_of(conn, sha)))[:limit]
            else:
                rows = conn.execute(select(custody_events).order_by(
                    custody_events.c.seq.desc()).limit(limit))
                found = [Event(r.seq, bytes(r.record)) for r in rows]
    if as_json:
        emit_json([_event_json(e) for e in found])
        return
    rows_out = [[e.seq, e.action, str(e.body.get("time", ""))[:19], e.sha256[:16],
                 str(e.body.get("actor", {}).get("component", ""))] for e in found]
    out.print(table("Custody events", ["#", "action", "time (UTC)", "sha256", "by"], rows_out))

