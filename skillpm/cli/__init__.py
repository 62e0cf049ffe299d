"""The ``skillpm`` command line: thin click commands over the library API.

Only click is imported at start-up. A command's module is imported when that
command runs (or when --help lists them all), and each command imports the
library modules it needs inside its function.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from skillpm import __version__
from skillpm.errors import SkillpmError

#: Every command: its name, the module and attribute that define it, and its one-line help
#: (the first sentence of its docstring; a test keeps the two equal). ``skillpm --help``
#: lists commands from here without importing any command module.
COMMANDS: dict[str, tuple[str, str]] = {
    "install": ("installing:install", "Install skills, choosing each one's variant for the GPU."),
    "sync": ("installing:sync", "Install exactly what skills.lock records, refusing any changed digest."),
    "update": ("installing:update", "Resolve installed skills (all, or NAMES) again and install newer versions."),
    "remove": ("installed:remove", "Remove an installed skill and its entry in skills.lock."),
    "list": ("installed:list_", "List installed skills, their variants, and whether each suits this GPU."),
    "outdated": ("outdated:outdated", "Show newer versions and better variants of installed skills, changing nothing."),
    "resolve": ("query:resolve", "Show what 'install' would choose for REQUIREMENT, installing nothing."),
    "info": ("query:info", "Show a package's versions, variants and evidence."),
    "search": ("query:search", "Find packages whose name, description or keywords contain every one of WORDS."),
    "init": ("authoring:init", "Create a skill source (SKILL.md + skillpm.toml), or adopt one with --from."),
    "validate": ("authoring:validate", "Check skills against the Agent Skills specification and skillpm.toml's schema."),
    "pack": ("authoring:pack", "Validate SOURCE and build one reproducible archive per variant."),
    "registry": ("registry:registry", "Create and maintain a static registry: plain files any web server can serve."),
    "eval": ("evaluate:eval_command", "Run SOURCE's test cases with and without the skill, and write an evidence file."),
    "bench": ("bench:bench", "Build SOURCE's reference kernel for a variant, check it, time it, and write evidence."),
    "keygen": ("attest:keygen", "Make a signing key pair: PATH (private, mode 0600) and PATH.pub."),
    "publish": ("attest:publish", "Pack SOURCE and publish its variants into a registry, with signed evidence."),
    "attest": ("attest:attest", "Add signed evidence about a published variant to a registry, without republishing it."),
    "verify": ("attest:verify", "Verify the attestations of NAME[==VERSION]'s variants, showing every check."),
}


#: Other names people type for a command (pip's and npm's): each runs the command it names.
ALIASES: dict[str, str] = {"uninstall": "remove", "rm": "remove"}


class UnknownCommand(click.UsageError):
    """A command skillpm does not have; ``possibilities`` are the near names it has."""

    def __init__(self, name: str, ctx: click.Context) -> None:
        import difflib

        super().__init__(f"no such command {name!r}", ctx)
        self.possibilities = difflib.get_close_matches(name, [*COMMANDS, *ALIASES])


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        name = ALIASES.get(name, name)
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name][0].split(":")
        return getattr(importlib.import_module(f"skillpm.cli.{module}"), attribute)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command ``args`` name; an unknown one is refused naming the near ones in :data:`COMMANDS`."""
        if args[0] not in COMMANDS and args[0] not in ALIASES and not args[0].startswith("-"):
            raise UnknownCommand(args[0], ctx)
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, from :data:`COMMANDS` (no command module imported)."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in self.list_commands(ctx)])


#: What the global flags asked for: ``verbose`` (-v) shows an error's chain of causes, ``debug`` its traceback.
_shown = {"verbose": False, "debug": False}
#: The most characters of an error message, or of its hint, that are printed.
ERROR_LIMIT = 1000


def _remember(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    _shown[param.name or ""] = value


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="skillpm")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_remember,
    help="On error, also show the chain of causes.",
)
@click.option(
    "--debug",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_remember,
    help="On error, also show the traceback (for reporting a bug in skillpm).",
)
def cli() -> None:
    """skillpm: install Agent Skills written for your GPU.

    \b
    Get a skill for this machine's GPU (or name one with --arch):
      skillpm install kernel-builder-cuda
      skillpm resolve kernel-builder-cuda --arch 9.0 --explain
    Publish your own:
      skillpm init my-skill && skillpm validate my-skill
      skillpm pack my-skill -o dist/
      skillpm registry init ./myreg && skillpm registry add ./myreg dist/*

    \b
    Environment:
      SKILLPM_ARCH                    default of --arch
      SKILLPM_REGISTRY                default of --registry
      SKILLPM_OFFLINE=1               as --offline: use only the caches
      SKILLPM_CACHE_DIR               cache folder (default: ~/.cache/skillpm)
      SKILLPM_CONFIG                  where 'registry add-remote' writes
      SKILLPM_ALLOW_HTTP=1            allow http:// beyond localhost
      SKILLPM_HTTP_TIMEOUT            seconds per request, in all (default: 60)
      SKILLPM_HTTP_DEADLINE           seconds per command, in all (300)
      SKILLPM_HTTP_RETRIES            attempts per request (default: 5)
      SKILLPM_HTTP_BACKOFF            first retry delay, doubling (0.5 s)
      SKILLPM_INDEX_KEY               default of 'registry ... --key'
      SKILLPM_SIGNING_KEY_PASSPHRASE  passphrase of encrypted keys
      SKILLPM_SIGSTORE_TRUSTED_ROOT   trusted root of a private Sigstore
      SKILLPM_SIGSTORE_TRUST_CONFIG   its trust config, to sign with it
      SKILLPM_OCI_HOST                the oci:// host the next two are for
      SKILLPM_OCI_USERNAME            its user (else docker's logins)
      SKILLPM_OCI_PASSWORD            its password or token
      SKILLPM_GIT_TIMEOUT             seconds a git source's fetch may take (300)
      SIGSTORE_ID_TOKEN               OIDC token for --sign sigstore
    """


def main() -> None:
    """Run the CLI: one line per error (and a hint), never a traceback unless --debug.

    With ``--json`` the error is also a JSON object on stdout (``error``, ``hint``, ``code``),
    for the scripts that read it; the exit code is the same.
    """
    _escape_what_output_cannot_encode()
    try:
        _refuse_undecodable_input(sys.argv[1:])
        # Without standalone mode click returns (not raises) the code of ctx.exit(n).
        code = cli.main(standalone_mode=False, prog_name="skillpm")
        _flush_stdout()
    except SkillpmError as error:
        _fail(error, error.message, error.hint, error.exit_code)
    except OSError as error:  # a file skillpm must read or write, outside what it checks itself
        where = f": {error.filename}" if error.filename else ""
        _fail(error, f"{error.strerror or error}{where}", None, 1)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.exceptions.NoArgsIsHelpError as error:  # a bare 'skillpm' or 'skillpm registry': its help
        error.show()
        sys.exit(error.exit_code)
    except click.UsageError as error:
        _fail(error, *_usage(error), error.exit_code)
    except click.ClickException as error:
        _fail(error, _sentence(error.format_message()), None, error.exit_code)
    except (click.Abort, KeyboardInterrupt) as error:  # Ctrl-C; SIGTERM and SIGHUP too (skillpm.console)
        # click turns a KeyboardInterrupt into Abort: a stopping signal's code is on the one it came from.
        code = next((cause.exit_code for cause in (error, error.__context__) if hasattr(cause, "exit_code")), 130)
        # A note says what an interruption left to finish (skillpm.registry.store.journal); else there is nothing.
        notes = next((cause.__notes__ for cause in (error, error.__context__) if getattr(cause, "__notes__", None)),
                     ["nothing was left half-written"])
        _fail(error, f"interrupted; {notes[0]}", None, code)
    except RuntimeError as error:  # Path.resolve() through a loop of links (3.11, 3.12); after click.Abort, one too
        if not str(error).startswith("Symlink loop from "):
            raise
        where = str(error).removeprefix("Symlink loop from ")
        _fail(error, f"cannot follow {where}: it leads into a loop of links", "remove or fix the loop", 1)
    except UnicodeEncodeError as error:  # the last resort: text a file's encoding (not the terminal's) cannot hold
        _fail(error, f"cannot write text as {error.encoding} ({error})", "rerun with --debug to see where", 1)
    except UnicodeError as error:  # the last resort: every reader of text refuses bad bytes itself
        _fail(error, f"cannot handle text that is not valid UTF-8 ({error})", "rerun with --debug to see where", 1)
    sys.exit(code if isinstance(code, int) else 0)


def _escape_what_output_cannot_encode() -> None:
    """Make stdout and stderr write what their encoding lacks as an escape (``\\u65e5``), not fail.

    A Latin-1 locale, or Windows with output redirected (cp1252), cannot encode most registry
    text (nor skillpm's own ``…``): a command stopped half-way through its output.
    """
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _refuse_undecodable_input(args: list[str]) -> None:
    """Refuse an argument or a ``SKILLPM_*`` variable that is not valid UTF-8.

    Python hands such bytes over as lone surrogates (``\\udcff``), which no name, version,
    file written or message can hold; so they are refused before any command runs.
    """
    given = [(f"argument {index} ({arg[:80]!r})", arg) for index, arg in enumerate(args, 1)]
    # A variable is named, never quoted: SKILLPM_TOKEN_*, the key passphrase and others hold secrets.
    given += [(f"environment variable {name}", value) for name, value in os.environ.items() if name.startswith("SKILLPM_")]
    for what, text in given:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise click.UsageError(f"{what} is not valid UTF-8") from None


def _usage(error: click.UsageError) -> tuple[str, str | None]:
    """The message and hint of a usage error: the near names click found, else the command's --help."""
    near: list[str] | None = getattr(error, "possibilities", None)  # UnknownCommand, click's NoSuchOption
    flag = getattr(error, "option_name", None)
    if flag in ("-v", "--verbose", "--debug") and error.ctx and error.ctx.parent:  # skillpm's own, after a command
        command = error.ctx.command_path.removeprefix(f"{error.ctx.find_root().info_name} ")
        return _sentence(error.message), f"{flag} goes before the command: 'skillpm {flag} {command} ...'"
    if near:
        return _sentence(error.message), f"did you mean {' or '.join(map(repr, near))}?"
    hint = f"see '{error.ctx.command_path} --help'" if error.ctx else None
    return _sentence(error.format_message()), hint


def _sentence(message: str) -> str:
    """click's "Missing argument 'X'." written as skillpm writes errors: "missing argument 'X'"."""
    message = message.removesuffix(".")
    return message[:1].lower() + message[1:] if message[1:2].islower() else message


def _fail(error: BaseException, message: str, hint: str | None, exit_code: int) -> None:
    from skillpm.display import LINE, clean

    if _shown["debug"]:
        import traceback

        # The message at its end quotes registry text as any error does: each line made safe.
        for line in "".join(traceback.format_exception(error)).removesuffix("\n").split("\n"):
            click.echo(clean(line, LINE), err=True)
    if _wants_json(sys.argv[1:]):
        import json

        details = getattr(error, "details", {})
        _print_unless_gone(json.dumps({**details, "error": message, "hint": hint, "code": exit_code}, ensure_ascii=True))
    # Messages and hints quote names, versions, URLs and file text from registries and
    # projects: made safe here, where every error passes, and bounded.
    click.secho(f"error: {clean(message, ERROR_LIMIT)}", fg="red", err=True)
    if hint:
        click.echo(f"hint: {clean(hint, ERROR_LIMIT)}", err=True)
    if _shown["verbose"] and not _shown["debug"]:
        cause = _shown_cause(error)
        while cause is not None:
            click.echo(f"cause: {clean(f'{type(cause).__name__}: {cause}', ERROR_LIMIT)}", err=True)
            cause = _shown_cause(cause)
    sys.exit(exit_code)


def _flush_stdout() -> None:
    """Write out what stdout still holds: a full disk is an error like any other; a reader that left
    (``| head``) ends skillpm with exit 1 and nothing said, as click does when a command's own write finds it."""
    if sys.stdout is None:
        return
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _drop_stdout()
        sys.exit(1)


def _print_unless_gone(text: str) -> None:
    """Print ``text`` on stdout, unless stdout is gone (a pipe nobody reads, a full disk): stderr still has the error."""
    try:
        print(text, flush=True)
    except OSError:
        _drop_stdout()


def _drop_stdout() -> None:
    """Nothing more reaches stdout: it becomes /dev/null, so that Python's flush at exit fails no more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def _shown_cause(error: BaseException) -> BaseException | None:
    """The cause ``-v`` may print: an explicit ``from`` cause, else the context unless ``from None`` hid it.

    skillpm writes ``raise ... from None`` where the cause quotes what must not be shown (a
    ~/.netrc line with its password, a server's echo of an API key), as Python's traceback does.
    """
    if error.__cause__ is not None:
        return error.__cause__
    return None if error.__suppress_context__ else error.__context__


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for ``--json`` (before a ``--`` that ends the options)."""
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options
