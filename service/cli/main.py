"""The ``skillcred`` command line: the service (serve, migrate, openapi, keys rotate) and the
stand-alone credential tools (verify, sign, keys generate).

Contract (scripts rely on it):

- ``skillcred serve [--host H] [--port P] [--workers N]`` migrates, bootstraps and serves;
  ``skillcred dev-serve`` (what ``make run`` runs) does the same with SKILLCRED_ENV=development.
  Without SKILLCRED_PUBLIC_URL the public URL is ``http://<host>:<port>``; issuer DIDs made for
  another public URL stop ``serve`` (run ``skillcred issuers move-dids``) and are moved by ``dev-serve``;
- ``skillcred admin reset-password EMAIL`` prints a new random password for that account (exit 1
  when no account has the email);
- ``skillcred clients register --issuer ID --name N --scope S`` registers a platform's confidential
  OAuth client and prints its id and secret (shown once); ``skillcred clients revoke CLIENT_ID``;
- ``skillcred issuers move-dids`` moves every issuer's did:web to SKILLCRED_PUBLIC_URL, keeping the
  old DIDs resolvable (see :mod:`service.issuers.did_moves`);

- ``skillcred worker`` and ``skillcred jobs``: see :mod:`service.cli.worker`;
- ``skillcred bulk-issue``: see :mod:`service.cli.bulk`;
- ``skillcred reminders`` records the expiry reminder events that are due now (the hourly job does it too);
- ``skillcred evidence-sweep [--grace-seconds S] [--expire-after-days D]`` deletes never-submitted
  bundles untouched for D days, then evidence bytes no item refers to any more (the daily job does it too);
- ``skillcred backup PATH`` writes one consistent archive of the database and its evidence blobs
  (never the KEK); ``skillcred restore PATH`` restores it into an empty database (exit 2 when refused;
  see :mod:`service.cli.backup`);
- ``skillcred verify FILE [--json] [--resolve URL=PATH ...]`` exits 0 only when verified;
- ``skillcred keys generate --out KEYFILE`` writes an Ed25519 key file (mode 0600), prints its did:key;
- ``skillcred keys compromise --issuer ID --key KEY --reason TEXT [--since WHEN]`` reports an issuer key
  compromised and lists what it signed; ``skillcred keys affected --issuer ID --key KEY [--json]`` lists
  that again (exit 1 for an unknown issuer or key, or a refused report: nothing changed);
- ``skillcred sign UNSIGNED.json --key KEYFILE [--jwt]`` prints the signed credential or VC-JWT;
- ``skillcred assess --rubric RUBRIC.json EVIDENCE... [--json]`` assesses local evidence offline
  (see :mod:`service.cli.assess`; exit 2 for an invalid rubric or evidence);
- ``skillcred assess-eval DIR [--no-embeddings] [--plot PATH] [--json]`` measures it on a labelled
  evaluation set (see :mod:`service.cli.assess_eval`; exit 2 for an unusable set).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from service.cli import bulk, worker
from service.vc import data_integrity, jose
from service.vc.did import DocumentKeyResolver
from service.vc.errors import VCError
from service.vc.keys import did_key_signer, ed25519_key_file, generate_ed25519, load_ed25519_key_file
from service.vc.status_list import MappedStatusListResolver
from service.vc.verify import verify


def _parse_resolve(values: Sequence[str]) -> dict[str, Any]:
    documents: dict[str, Any] = {}
    for value in values:
        url, sep, path = value.partition("=")
        if not sep or not url or not path:
            raise SystemExit(f"--resolve expects URL=PATH, got {value!r}")
        try:
            documents[url] = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise SystemExit(f"--resolve {url}: cannot read {path}: {err}") from err
    return documents


def cmd_verify(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as err:
        print(f"cannot read {args.file}: {err.strerror}", file=sys.stderr)
        return 2
    documents = _parse_resolve(args.resolve)
    report = verify(
        data,
        key_resolver=DocumentKeyResolver(documents),
        status_resolver=MappedStatusListResolver(documents),
    )
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.to_text())
    return 0 if report.verified else 1


def _write_private_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def cmd_keys_generate(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if out.exists() and not args.force:
        print(f"{out} exists; pass --force to overwrite", file=sys.stderr)
        return 2
    key = generate_ed25519()
    key_file = ed25519_key_file(key)
    _write_private_file(out, json.dumps(key_file, indent=2) + "\n")
    print(key_file["controller"])
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    try:
        unsigned = json.loads(Path(args.file).read_text(encoding="utf-8"))
        key = load_ed25519_key_file(json.loads(Path(args.key).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as err:
        print(f"cannot read input: {err}", file=sys.stderr)
        return 2
    except VCError as err:
        print(f"{err.code}: {err}", file=sys.stderr)
        return 2
    if not isinstance(unsigned, dict):
        print("the credential must be a JSON object", file=sys.stderr)
        return 2
    signer = did_key_signer(key)
    key_did = signer.verification_method.split("#")[0]
    issuer = unsigned.get("issuer")
    if (issuer.get("id") if isinstance(issuer, dict) else issuer) != key_did:
        print(f"warning: the credential's issuer is not {key_did}; verifiers will refuse the proof", file=sys.stderr)
    try:
        if args.jwt:
            print(jose.sign_vc_jwt(unsigned, signer))
        else:
            print(json.dumps(data_integrity.sign(unsigned, signer, proof_as_list=True), indent=2, ensure_ascii=False))
    except VCError as err:
        print(f"cannot sign: {err.code}: {err}", file=sys.stderr)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from service.cli import commands

    commands.serve(args.host, args.port, args.workers, development=args.command == "dev-serve")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from service.cli import commands
    from service.core.config import get_settings

    commands.migrate(get_settings())
    print("database is up to date")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from service.cli import commands

    sys.stdout.write(commands.openapi_yaml())
    return 0


def cmd_keys_rotate(args: argparse.Namespace) -> int:
    from service.core.config import get_settings
    from service.core.errors import ServiceError
    from service.issuers.commands import rotate_keys_command

    try:
        for method in rotate_keys_command(get_settings(), args.issuer):
            print(method)
    except ServiceError as err:
        print(f"{err.code}: {err.detail}", file=sys.stderr)
        return 1
    return 0


def _parse_moment(value: str) -> Any:
    from datetime import datetime

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an ISO 8601 date and time") from None


def _print_signed(records: Sequence[Any]) -> None:
    for record in records:
        forms = ",".join(record.formats)
        print(f"{record.kind} {record.id} {forms} issued {record.issued_at:%Y-%m-%dT%H:%M:%SZ} {record.state}")


def cmd_keys_compromise(args: argparse.Namespace) -> int:
    from service.cli.keys import compromise_key_command
    from service.core.config import get_settings
    from service.core.errors import ServiceError
    from service.core.keystore import KeystoreError

    try:
        summary = compromise_key_command(get_settings(), args.issuer, args.key, reason=args.reason, since=args.since)
    except ServiceError as err:
        print(f"skillcred: {err.code}: {err.detail}; nothing changed", file=sys.stderr)
        return 1
    except KeystoreError as err:
        print(f"skillcred: {err}; nothing changed", file=sys.stderr)
        return 1
    print(f"{summary.method} reported compromised since {summary.compromised_at}: nothing it signed verifies any more")
    if summary.replacement:
        print(f"new active key: {summary.replacement}")
    print(f"status lists signed again with the active key: {summary.status_lists_resigned}")
    print(f"{len(summary.signed)} credential(s) and endorsement(s) it signed, to reissue:")
    _print_signed(summary.signed)
    return 0


def cmd_keys_affected(args: argparse.Namespace) -> int:
    from service.cli.keys import affected_command
    from service.core.config import get_settings
    from service.core.errors import ServiceError

    try:
        records = affected_command(get_settings(), args.issuer, args.key)
    except ServiceError as err:
        print(f"skillcred: {err.code}: {err.detail}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([{**vars(r), "issued_at": r.issued_at.isoformat()} for r in records], indent=2))
    else:
        _print_signed(records)
    return 0


def cmd_admin_reset_password(args: argparse.Namespace) -> int:
    from service.cli.admin import reset_password_command
    from service.core.config import get_settings
    from service.core.errors import NotFound

    try:
        password = reset_password_command(get_settings(), args.email)
    except NotFound as err:
        print(f"skillcred: {err.detail}; nothing changed", file=sys.stderr)
        return 1
    print(password)
    return 0


def cmd_clients_register(args: argparse.Namespace) -> int:
    from service.core.config import get_settings
    from service.core.errors import ServiceError
    from service.platforms.commands import register_client_command

    try:
        client_id, secret = register_client_command(get_settings(), args.issuer, args.name, args.scope)
    except ServiceError as err:
        print(f"skillcred: {err.code}: {err.detail}; nothing changed", file=sys.stderr)
        return 1
    print(f"client_id: {client_id}")
    print(f"client_secret: {secret}")
    print("(the secret is shown this once; only its hash is kept)", file=sys.stderr)
    return 0


def cmd_clients_revoke(args: argparse.Namespace) -> int:
    from service.core.config import get_settings
    from service.core.errors import ServiceError
    from service.platforms.commands import revoke_client_command

    try:
        revoke_client_command(get_settings(), args.client_id)
    except ServiceError as err:
        print(f"skillcred: {err.code}: {err.detail}; nothing changed", file=sys.stderr)
        return 1
    print(f"{args.client_id} revoked")
    return 0


def cmd_issuers_move_dids(args: argparse.Namespace) -> int:
    from service.cli.admin import move_dids_command
    from service.core.config import get_settings
    from service.core.errors import ServiceError

    settings = get_settings()
    try:
        moves = move_dids_command(settings)
    except ServiceError as err:
        print(f"skillcred: {err.code}: {err.detail}; nothing changed", file=sys.stderr)
        return 1
    for move in moves:
        print(f"{move.issuer_id}: {move.old_did} -> {move.new_did}")
    print(f"{len(moves)} issuer DID(s) moved to {settings.public_url}")
    return 0


def cmd_reminders(args: argparse.Namespace) -> int:
    from service.core.config import get_settings
    from service.credentials.commands import expiry_reminders_command

    reminded = expiry_reminders_command(get_settings())
    print(f"{len(reminded)} expiry reminder(s) recorded")
    return 0


def cmd_evidence_sweep(args: argparse.Namespace) -> int:
    from service.core.config import get_settings
    from service.evidence.commands import expire_command, sweep_command

    settings = get_settings()
    expired = expire_command(settings, days=args.expire_after_days)
    print(f"{len(expired)} never-submitted evidence bundle(s) expired")
    removed = sweep_command(settings, grace_seconds=args.grace_seconds)
    print(f"{len(removed)} unreferenced evidence blob(s) removed")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from service.cli.backup import BackupError, backup
    from service.core.config import get_settings

    try:
        report = backup(get_settings(), args.path)
    except BackupError as err:
        print(f"skillcred: {err}", file=sys.stderr)
        return 2
    for digest in report.missing_blobs:
        print(f"warning: evidence blob {digest} is referenced but missing from the blob store", file=sys.stderr)
    print(report.summary())
    print(f"backup written to {args.path} (the KEK is not in it: keep SKILLCRED_KEK safe separately)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from service.cli.backup import BackupError, restore
    from service.core.config import get_settings

    try:
        report = restore(get_settings(), args.path)
    except BackupError as err:
        print(f"skillcred: {err}", file=sys.stderr)
        return 2
    print(report.summary())
    print("restored; run `skillcred migrate` (or serve) to bring the database to this code's revision")
    return 0


def cmd_assess(args: argparse.Namespace) -> int:
    from service.cli.assess import run

    return run(args.rubric, args.evidence, as_json=args.json, use_embeddings=not args.no_embeddings)


def cmd_assess_eval(args: argparse.Namespace) -> int:
    from service.cli.assess_eval import run

    return run(args.directory, use_embeddings=not args.no_embeddings, plot=args.plot, as_json=args.json)


SERVE_HELP = (
    "Without SKILLCRED_PUBLIC_URL the public URL (printed URLs, credential ids, the issuers' did:web) is "
    "http://HOST:PORT, 127.0.0.1 for a wildcard host. When issuer DIDs were made for another public URL, "
    "serve refuses to start and names `skillcred issuers move-dids`; dev-serve moves them itself."
)

MOVE_DIDS_HELP = """\
A did:web names the host it lives on, so every issuer DID of this deployment is built from
SKILLCRED_PUBLIC_URL. After that setting changes, run this command (with the new setting) once:

- each issuer gets the DID the new URL implies: the issuer that held the old host DID
  (did:web:<old host>) gets did:web:<new host> while no issuer holds it, every other issuer
  did:web:<new host>:issuers:<id>; keys do not change;
- each DID left behind is kept as an alias of its issuer, so credentials signed before the
  move keep verifying: their issuer DID and proof kid (did:web:<old host>...#key-1) still
  resolve in this service's verifier, /.well-known/did.json and /issuers/<id>/did.json
  answer the old DID document when a request arrives under the old host name (keep it
  pointing at this service so outside verifiers resolve it too), and the new DID document
  lists the old DIDs under alsoKnownAs (the old one lists the new DID);
- each move is audited as issuer.move_did, all in one transaction.

Moving back to a former URL gives the issuers their former DIDs again. `skillcred serve`
refuses to start while a move is pending; `skillcred dev-serve` makes it itself.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="skillcred", description="SkillCred: verifiable Open Badges 3.0 credentials.")
    commands = parser.add_subparsers(dest="command", required=True)

    for name, helptext in (
        ("serve", "migrate, bootstrap and serve the API"),
        ("dev-serve", "serve for development (what `make run` does)"),
    ):
        p = commands.add_parser(name, help=helptext, description=helptext + ". " + SERVE_HELP)
        p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
        p.add_argument("--workers", type=int, default=1)
        p.set_defaults(func=cmd_serve)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    worker.add_parsers(commands)

    admin = commands.add_parser("admin", help="operator commands on the configured database")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    p = admin_commands.add_parser(
        "reset-password",
        help="give an account a new random password and print it",
        description="Give the account with this email a new random password and print it (the old one stops "
        "working at once). Works on the database SKILLCRED_DATABASE_URL names; exit 1 when no account has the email.",
    )
    p.add_argument("email", metavar="EMAIL")
    p.set_defaults(func=cmd_admin_reset_password)

    issuers = commands.add_parser("issuers", help="issuer maintenance")
    issuer_commands = issuers.add_subparsers(dest="issuers_command", required=True)
    p = issuer_commands.add_parser(
        "move-dids",
        help="move every issuer's did:web to SKILLCRED_PUBLIC_URL after it changed",
        description=MOVE_DIDS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=cmd_issuers_move_dids)
    clients = commands.add_parser("clients", help="platforms' OAuth 2.0 clients")
    client_commands = clients.add_subparsers(dest="clients_command", required=True)
    p = client_commands.add_parser("register", help="register a confidential client of an issuer; prints its secret")
    p.add_argument("--issuer", required=True, metavar="ISSUER_ID")
    p.add_argument("--name", required=True)
    p.add_argument("--scope", required=True, help='space-separated scopes, e.g. "credentials:issue earners:provision"')
    p.set_defaults(func=cmd_clients_register)
    p = client_commands.add_parser("revoke", help="revoke a client: its tokens stop working at once")
    p.add_argument("client_id", metavar="CLIENT_ID")
    p.set_defaults(func=cmd_clients_revoke)
    commands.add_parser("openapi", help="print the OpenAPI document (YAML)").set_defaults(func=cmd_openapi)

    commands.add_parser(
        "reminders",
        help="record expiry reminder events for credentials entering "
        "the reminder window (SKILLCRED_EXPIRY_REMINDER_DAYS)",
    ).set_defaults(func=cmd_reminders)

    p = commands.add_parser(
        "evidence-sweep",
        help="delete never-submitted evidence bundles left untouched, then stored evidence bytes no item "
        "refers to (deleted items); the daily evidence:sweep job does the same",
    )
    p.add_argument(
        "--grace-seconds", type=float, default=3600.0, help="spare blobs stored more recently than this (default 3600)"
    )
    p.add_argument(
        "--expire-after-days",
        type=int,
        default=None,
        help="first delete bundles never submitted and untouched this many days, with their items "
        "(default SKILLCRED_EVIDENCE_UNSUBMITTED_BUNDLE_DAYS; 0: none)",
    )
    p.set_defaults(func=cmd_evidence_sweep)

    p = commands.add_parser(
        "backup",
        help="write one consistent archive (.tar.gz) of the database and the evidence blobs it refers to",
        description="Every table is read in one read-only transaction. The archive holds password hashes and "
        "sealed issuer keys (mode 0600) but never the KEK: restoring needs the same SKILLCRED_KEK to sign again.",
    )
    p.add_argument("path", metavar="PATH")
    p.set_defaults(func=cmd_backup)
    p = commands.add_parser(
        "restore",
        help="restore a backup into an empty database (SQLite or PostgreSQL) and the blob store",
        description="Refuses (exit 2, nothing changed) a non-empty database, a blob that does not match its "
        "name, or a backup newer than this code; migrates the database to the backup's revision first.",
    )
    p.add_argument("path", metavar="PATH")
    p.set_defaults(func=cmd_restore)

    p = commands.add_parser("verify", help="verify a credential (JSON-LD, VC-JWT, baked PNG/SVG)")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--resolve",
        action="append",
        default=[],
        metavar="URL=PATH",
        help="use the JSON document at PATH for URL (DID/controller document or status list)",
    )
    p.set_defaults(func=cmd_verify)

    keys = commands.add_parser("keys", help="key management").add_subparsers(dest="keys_command", required=True)
    p = keys.add_parser("generate", help="write a new Ed25519 key file and print its did:key")
    p.add_argument("--out", required=True)
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_keys_generate)
    p = keys.add_parser("rotate", help="retire an issuer's signing keys and create new ones")
    p.add_argument("--issuer", required=True, help="issuer id")
    p.set_defaults(func=cmd_keys_rotate)
    p = keys.add_parser(
        "compromise",
        help="report an issuer key compromised: nothing it signed verifies any more",
        description="Record that an issuer key (active or retired) is known or suspected compromised. From then "
        "on every credential, endorsement and status list it signed fails verification (key_compromised), "
        "whatever dates it carries; the DID document lists it as revoked under no relationship; an active key "
        "is replaced by a new one. Prints what the key signed, to reissue. Exit 1 (nothing changed) for an "
        "unknown issuer or key, a future --since, or a key already reported.",
    )
    p.add_argument("--issuer", required=True, help="issuer id")
    p.add_argument("--key", required=True, help="the key's id or fragment (key-1, rsa-2 ...)")
    p.add_argument("--reason", required=True, help="why, in a sentence (shown in verification reports)")
    p.add_argument(
        "--since", type=_parse_moment, default=None, help="from when, ISO 8601 with a time zone (default: now)"
    )
    p.set_defaults(func=cmd_keys_compromise)
    p = keys.add_parser("affected", help="list the credentials and endorsements an issuer key signed")
    p.add_argument("--issuer", required=True, help="issuer id")
    p.add_argument("--key", required=True, help="the key's id or fragment (key-1, rsa-2 ...)")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=cmd_keys_affected)

    bulk.add_parsers(commands)

    p = commands.add_parser("assess", help="assess local evidence against a rubric, offline")
    p.add_argument("--rubric", required=True, help="rubric JSON (schemas/rubric.schema.json)")
    p.add_argument("evidence", nargs="+", help="text/Markdown files, other files, git repository directories")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--no-embeddings", action="store_true", help="skip the semantic-similarity model")
    p.set_defaults(func=cmd_assess)

    p = commands.add_parser(
        "assess-eval",
        help="measure the offline assessor on a labelled evaluation set (e.g. tests/assessment_eval)",
    )
    p.add_argument("directory", metavar="DIR", help="the set: a directory with manifest.yaml")
    p.add_argument("--no-embeddings", action="store_true", help="skip the semantic-similarity model")
    p.add_argument("--plot", metavar="PATH", help="calibration plot PNG (default DIR/calibration.png)")
    p.add_argument("--json", action="store_true", help="print figures, calibration and every sample as JSON")
    p.set_defaults(func=cmd_assess_eval)

    p = commands.add_parser("sign", help="sign an unsigned credential with a key file")
    p.add_argument("file")
    p.add_argument("--key", required=True)
    p.add_argument("--jwt", action="store_true", help="print a compact VC-JWT instead of a Data Integrity proof")
    p.set_defaults(func=cmd_sign)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
