"""`edge members ...`: the staff tool — keys, member file edits and imports, dry runs, push, status, commands.

Run on the staff machine or the broker host, never on a door. Exit codes: 0 done; 1 the broker failed or
(status) a door has not applied the last push; 2 a file, option or argument must be fixed (nothing changed).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.access.commands import DEFAULT_VALID_FOR_S, Action
from edge.clock import SystemClock
from edge.config import load_config
from edge.contract.payloads import DoorMode
from edge.errors import BrokerError, ConfigError, StoreError
from edge.i18n import LANGUAGE_ENV, Formatter
from edge.staff import check, edits, imports, listing, render
from edge.staff.command import send_command
from edge.staff.csv_import import import_csv
from edge.staff.csv_mapping import MAPPINGS, load_mapping
from edge.staff.keygen import generate_site_keys
from edge.staff.keys import load_badge_key, load_signing_key
from edge.staff.memberfile import load_member_file
from edge.staff.members import MemberFile
from edge.staff.memberstore import MemberStore
from edge.staff.push import push_snapshot, read_record, record_path
from edge.staff.status import collect_status

Handler = Callable[[argparse.Namespace], int]


def register(sub: Any) -> None:
    """Add the members command and its actions."""
    parser = sub.add_parser("members", help="staff tools: members, snapshots, door commands", description=__doc__)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    keygen = actions.add_parser("keygen", help="create the signing keys and the site badge key (never overwrites)")
    keygen.add_argument("--dir", type=Path, default=Path("keys"), help="folder for the key files (default: keys)")
    keygen.set_defaults(func=_guard(_keygen))

    imp = actions.add_parser("import", help="replace a platform's members with its CSV export (all or nothing)")
    imp.add_argument("csv", type=Path, help="the CSV export")
    imp.add_argument("--format", choices=sorted(MAPPINGS), help="built-in column mapping")
    imp.add_argument("--mapping", type=Path, help="mapping YAML; with --format, only the keys that differ")
    imp.add_argument(
        "--dry-run", action="store_true", help="check the file, list who is added, changed, removed; change nothing"
    )
    imp.add_argument(
        "--max-removed",
        type=_percent,
        default=imports.DEFAULT_MAX_REMOVED_SHARE * 100,
        metavar="PERCENT",
        help="largest share of the platform's members an import removes without --confirm-removals "
        f"(default {imports.DEFAULT_MAX_REMOVED_SHARE * 100:g}); removing all of them always needs it",
    )
    imp.add_argument(
        "--confirm-removals",
        type=_count,
        metavar="N",
        help="confirm that the import removes exactly N members (the number the refusal or the dry run gives)",
    )
    _members_arg(imp)
    imp.set_defaults(func=_guard(_import))

    add = actions.add_parser("add", help="add a member")
    _members_arg(add)
    add.add_argument("--id", required=True, help="member id")
    add.add_argument("--plan", required=True, help="plan name from the member file")
    add.add_argument(
        "--badge", action="append", default=[], help="badge UID, or token:HEX for a card enrolled by its token (repeat)"
    )
    add.add_argument("--name", default="", help="name (stays on the staff machine)")
    add.add_argument("--valid-from", type=_date, help="first day, YYYY-MM-DD (inclusive)")
    add.add_argument("--valid-until", type=_date, help="last day, YYYY-MM-DD (inclusive)")
    add.add_argument("--account", help="company or team account")
    add.add_argument("--staff", action="store_true", help="a staff badge (passes lockdown if the policy says so)")
    _badge_key_arg(add)
    add.set_defaults(func=_guard(_add))

    for name, helptext, handler in (
        ("suspend", "refuse a member at every door (badges kept)", _suspend),
        ("unsuspend", "lift a suspension", _unsuspend),
        ("remove", "remove a member and their badges", _remove),
    ):
        action = actions.add_parser(name, help=helptext)
        _members_arg(action)
        action.add_argument("id", help="member id")
        action.set_defaults(func=_guard(handler))

    revoke = actions.add_parser("revoke-badge", help="take a lost or returned badge away from its member")
    _members_arg(revoke)
    revoke.add_argument("uid", nargs="+", help="the badge UID (spaces between bytes are fine), or token:HEX")
    _badge_key_arg(revoke)
    revoke.set_defaults(func=_guard(_revoke))

    lst = actions.add_parser("list", help="members with plan, validity, status and badge count")
    _members_arg(lst)
    lst.add_argument("--on", type=_date, help="date the status is given for (default: today, site time)")
    lst.add_argument("--json", action="store_true", help="print JSON")
    lst.set_defaults(func=_guard(_list))

    chk = actions.add_parser("check", help="who a door would admit at a given time, and why (dry run)")
    _members_arg(chk)
    chk.add_argument("--node", required=True, type=Path, help="the door's node config")
    chk.add_argument("--door", required=True, help="door name in that config")
    chk.add_argument("--at", help="local time in the site's zone, e.g. 2026-11-26T19:30 (default: now)")
    who = chk.add_mutually_exclusive_group()
    who.add_argument("--badge", help="check one badge UID")
    who.add_argument("--all", action="store_true", help="check every member (the default)")
    chk.add_argument("--mode", choices=[m.value for m in DoorMode], help="assume this door mode")
    chk.add_argument("--clock-untrusted", action="store_true", help="assume the door's clock is not synchronised")
    chk.add_argument("--json", action="store_true", help="print JSON")
    chk.set_defaults(func=_guard(_check))

    push = actions.add_parser("push", help="sign the member file as a snapshot and publish it to the doors")
    _members_arg(push)
    _config_arg(push)
    push.add_argument("--signing-key", required=True, type=Path, help="snapshot signing key (private, PEM)")
    push.add_argument("--badge-key", required=True, type=Path, help="the site badge key file")
    push.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the broker")
    push.set_defaults(func=_guard(_push))

    status = actions.add_parser("status", help="which snapshot each door applied, since when (revocation lag)")
    _config_arg(status)
    status.add_argument("--members", type=Path, help="member file whose push record to compare with")
    status.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the broker")
    status.add_argument("--wait", type=float, default=0.0, help="keep listening up to this long for doors to catch up")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(func=_guard(_status))

    cmd = actions.add_parser("command", help="send a signed command to a door")
    cmd.add_argument("command", choices=[a.value for a in Action], help="what the door should do")
    cmd.add_argument("--door", required=True, help="door name")
    _config_arg(cmd)
    cmd.add_argument("--signing-key", required=True, type=Path, help="command signing key (private, PEM)")
    cmd.add_argument("--valid-for", type=int, default=DEFAULT_VALID_FOR_S, help="seconds the command stays valid")
    cmd.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the broker")
    cmd.set_defaults(func=_guard(_command))


def _members_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--members", type=Path, default=Path("members.yaml"), help="the member file (default: members.yaml)"
    )


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", required=True, type=Path, help="the staff node config (site, node, mqtt)")


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def _percent(text: str) -> float:
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage from 0 to 100")
    return value


def _count(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of members (0 or more)")
    return int(text)


def _guard(handler: Handler) -> Handler:
    """Turn the errors staff can fix into exit 2 and broker or disk failures into exit 1, each with a message."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ConfigError as exc:
            for issue in exc.issues:
                print(f"error: {issue}", file=sys.stderr)
            return 2
        except (BrokerError, StoreError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except BrokenPipeError:
            # Output piped into `head` and cut short: not an error of ours.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0

    return run


def _keygen(args: argparse.Namespace) -> int:
    for outcome in generate_site_keys(args.dir):
        files = " + ".join(str(f) for f in outcome.files)
        key = f" (key id {outcome.key_id})" if outcome.key_id else ""
        print(f"{outcome.action} {outcome.name} key: {files}{key}")
    print(
        "private keys (*.key) stay on this machine; give doors the *.pub files and badge.key. "
        "Existing keys are never overwritten."
    )
    return 0


def _import(args: argparse.Namespace) -> int:
    fmt = _formatter()
    if args.format is None and args.mapping is None:
        raise ConfigError(["give --format (" + ", ".join(sorted(MAPPINGS)) + ") or --mapping FILE"])
    base_mapping = MAPPINGS[args.format] if args.format else None
    mapping = load_mapping(args.mapping, base=base_mapping, fmt=fmt) if args.mapping else MAPPINGS[args.format]
    try:
        raw = args.csv.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{args.csv}: cannot read: {exc.strerror}"]) from None
    store = MemberStore(args.members)
    loaded = store.load()
    members = loaded.members
    result, report = import_csv(raw, mapping, members, source=str(args.csv), fmt=fmt)
    # The guard decides; this command only shows the plan and saves what the guard allows.
    plan = imports.plan_import(members, result, mapping.source)
    verdict = imports.judge_removals(plan, max_share=args.max_removed / 100, confirmed=args.confirm_removals)
    for skipped in report.skipped:
        print(fmt.gettext("skipped %(what)s", what=skipped))
    summary = render.import_summary(plan, fmt)
    if args.dry_run:
        print(fmt.gettext("dry run: would import %(summary)s; %(file)s unchanged", summary=summary, file=args.members))
    elif verdict.allowed:
        # Saved only if nobody changed the file since it was read for the import (the console may be editing it).
        store.edit(lambda _current: edits.Edit(result, summary), based_on=loaded.version)
        print(fmt.gettext("imported %(summary)s into %(file)s", summary=summary, file=args.members))
    else:
        print(fmt.gettext("not imported: %(summary)s; %(file)s unchanged", summary=summary, file=args.members))
    lists = render.import_lists(plan, fmt, added_and_changed=args.dry_run)
    if lists:
        print(lists)
    if not verdict.allowed:
        issues = verdict.reasons(plan, fmt)
        if verdict.needs_confirmation:
            hint = fmt.ngettext(
                "if the member listed did leave %(source)s, run the import again with %(option)s %(count)s",
                "if the members listed did leave %(source)s, run the import again with %(option)s %(count)s",
                verdict.removed,
                source=plan.source,
                option="--confirm-removals",
                count=verdict.removed,
            )
            issues.append(hint)
        raise ConfigError(issues)
    if not args.dry_run:
        print(fmt.gettext("send it to the doors: edge members push"))
    return 0


def _formatter() -> Formatter:
    """Messages in `$EDGE_LANG` (French when unset); an unsupported language is an error staff can fix."""
    try:
        return Formatter.for_language()
    except ValueError as exc:
        raise ConfigError([f"{LANGUAGE_ENV}: {exc}"]) from None


def _badge_key_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--badge-key",
        type=Path,
        help="the site badge key file: then a UID and the token of a card enrolled at the console count as one card",
    )


def _optional_badge_key(args: argparse.Namespace) -> bytes | None:
    return load_badge_key(args.badge_key) if args.badge_key is not None else None


def _edit(args: argparse.Namespace, change: Callable[[MemberFile], edits.Edit]) -> int:
    edit, _saved = MemberStore(args.members).edit(change)
    print(edit.summary)
    for warning in edit.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if edit.changed:
        print("send it to the doors: edge members push")
    return 0


def _add(args: argparse.Namespace) -> int:
    key = _optional_badge_key(args)
    return _edit(
        args,
        lambda m: edits.add_member(
            m,
            member_id=args.id,
            plan=args.plan,
            badges=tuple(args.badge),
            name=args.name,
            valid_from=args.valid_from,
            valid_until=args.valid_until,
            account=args.account,
            staff=args.staff,
            badge_key=key,
        ),
    )


def _suspend(args: argparse.Namespace) -> int:
    return _edit(args, lambda m: edits.set_suspended(m, args.id, True))


def _unsuspend(args: argparse.Namespace) -> int:
    return _edit(args, lambda m: edits.set_suspended(m, args.id, False))


def _remove(args: argparse.Namespace) -> int:
    return _edit(args, lambda m: edits.remove_member(m, args.id))


def _revoke(args: argparse.Namespace) -> int:
    key = _optional_badge_key(args)
    return _edit(args, lambda m: edits.revoke_badge(m, "".join(args.uid), badge_key=key))


def _list(args: argparse.Namespace) -> int:
    members = load_member_file(args.members)
    today = args.on or SystemClock().now().astimezone(members.tz).date()
    rows = listing.list_members(members, today)
    print(render.as_json(render.list_json(rows)) if args.json else render.list_text(rows))
    return 0


def _check(args: argparse.Namespace) -> int:
    members = load_member_file(args.members)
    # The door's secret files live on the door, not here: only its doors and modes are needed.
    node = load_config(args.node, check_secrets=False)
    if node.site != members.site:
        raise ConfigError([f"{args.node}: site {node.site!r} is not the member file's site {members.site!r}"])
    at, notes = check.parse_at(args.at, members.tz, SystemClock().now())
    mode = DoorMode(args.mode) if args.mode else None
    situation = check.door_situation(
        node, args.door, at, mode=mode, clock_trusted=not args.clock_untrusted, closures=members.closures
    )
    result = check.check_members(members, situation, at, badge=args.badge)
    if node.timezone != members.timezone:
        notes += (f"the node's timezone {node.timezone} differs from the member file's {members.timezone}",)
    result = dataclasses.replace(result, notes=(*notes, *result.notes))
    print(render.as_json(render.check_json(result)) if args.json else render.check_text(result))
    return 0


def _push(args: argparse.Namespace) -> int:
    members = load_member_file(args.members)
    config = load_config(args.config)
    signing_key = load_signing_key(args.signing_key)
    badge_key = load_badge_key(args.badge_key)
    record = push_snapshot(
        members,
        args.members,
        config,
        signing_key=signing_key,
        badge_key=badge_key,
        clock=SystemClock(),
        timeout=args.timeout,
    )
    print(
        f"pushed member snapshot version {record.version} ({record.members} members, {record.badges} badges, "
        f"{record.size} bytes) to {record.topic}, retained; the broker acknowledged it"
    )
    print(f"check that every door applied it: edge members status -c {args.config} --members {args.members} --wait 60")
    return 0


def _status(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    record = read_record(record_path(args.members)) if args.members else None
    report = collect_status(config, SystemClock(), timeout=args.timeout, wait=args.wait, record=record)
    print(render.as_json(report.to_json()) if args.json else render.status_text(report))
    return 0 if report.all_current else 1


def _command(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    key = load_signing_key(args.signing_key)
    sent = send_command(
        config,
        args.door,
        Action(args.command),
        signing_key=key,
        clock=SystemClock(),
        timeout=args.timeout,
        valid_for_s=args.valid_for,
    )
    command = sent.command
    print(
        f"sent {command.action} to door {command.door} on {sent.topic} (not retained), valid "
        f"{command.valid_for_s} s, nonce {command.nonce[:8]}…; the broker acknowledged it"
    )
    if not sent.door_known:
        print(
            f"warning: door {command.door} has never reported its state on this broker: is the name right?",
            file=sys.stderr,
        )
    return 0
