"""Plan -> text, Markdown or JSON. Works from the plan alone, so a saved plan renders the same."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from ..kinds import counted, kind_named
from ..kinds.base import DEFAULT_KIND
from .graph import mermaid_section
from ..planning.plan import SYMBOLS, Action, Change, DriftKind, Plan, plan_json
from .valuediff import DiffLine, DiffStyle, change_lines, to_json, tool_type, value_lines

MARKDOWN_LIMIT = 65_536  # GitHub's limit for a comment body and a step summary
View = Literal["plan", "drift"]

_ACTION_COLOR = {Action.CREATE: "green", Action.ADOPT: "cyan", Action.UPDATE: "yellow", Action.DELETE: "red"}
_KIND_COLOR = {"added": "green", "removed": "red", "changed": "yellow", "hunk": "cyan", "note": None, "plain": None}
_CAUSE_TEXT = {
    "manifest": "manifest changed",
    "drift": "changed outside assistants-sync",
    "both": "manifest changed, and changed outside assistants-sync",
}
_UNTRACKED = "carries this stack's tag but not the applied tag every apply writes"
# What the drift report adds to a create, adopt or delete title: why no manifest edit explains it.
_DRIFT_TEXT: dict[Action, dict[DriftKind, str]] = {
    Action.CREATE: {"missing": ": missing (deleted outside assistants-sync, or never applied)"},
    Action.ADOPT: {"missing": ": missing (never adopted, or its ownership tag was removed outside assistants-sync)"},
    Action.DELETE: {
        "untracked": f", and it {_UNTRACKED} (created or retagged outside assistants-sync)",
        "changed": ", and it was changed outside assistants-sync since the last apply",
    },
}
# Counted in the drift summary, in this order: "Drift: 1 assistant changed outside assistants-sync, 1 missing."
_DRIFT_COUNTED: tuple[tuple[DriftKind, str], ...] = (
    ("changed", "changed outside assistants-sync"), ("missing", "missing"),
    ("untracked", "tagged outside assistants-sync"), ("duplicate", "duplicated"),
)


def render_json(plan: Plan) -> str:
    """The stable machine-readable plan (format_version 2), the same document a saved plan holds."""
    return plan_json(plan)


def render_text(plan: Plan, *, color: bool = False, view: View = "plan", diff: DiffStyle = DiffStyle()) -> str:
    """A Terraform-like plan: + create, > adopt, ~ update, - delete, then the counts."""
    paint = _painter(color)
    header = f'Stack "{plan.stack}" at {plan.endpoint}'
    notes = "".join(f"Note: {note.key}: {note.text}\n" for note in plan.notes)
    header += "".join(f"\n{paint(line, 'yellow')}" for line in targets_note(plan))
    if plan.is_empty:
        notes = f"\n{notes}" if notes else ""
        return f"{header}\n\n{_nothing_to_do(plan, view)}\n{notes}\n{summary_line(plan, view)}\n"
    blocks = [_text_group(title, group, paint) if title else _text_change(group[0], paint, view, diff)
              for title, group in shown_changes(plan)]
    banner = _delete_banner(plan, markdown=False)
    warning = f"\n{paint('Warning: ' + banner, 'red', bold=True)}\n" if banner else ""
    notes = f"\n{notes}" if notes else ""
    return (header + "\n\n" + "\n".join(blocks) + warning + notes + "\n" + paint(summary_line(plan, view), bold=True)
            + "\n")


def render_markdown(plan: Plan, *, view: View = "plan", limit: int = MARKDOWN_LIMIT,
                    diff: DiffStyle = DiffStyle()) -> str:
    """For pull-request comments and $GITHUB_STEP_SUMMARY: never longer than `limit` characters.

    A change cut to fit still lists the @@ header of every hunk of its text diffs.
    """
    title = "drift report" if view == "drift" else "plan"
    head = [f"### assistants-sync {title}: stack `{plan.stack}`", "", f"**{summary_line(plan, view)}**", ""]
    banner = _delete_banner(plan, markdown=True)
    if banner:
        head += ["> [!WARNING]", f"> {banner}", ""]
    if plan.targets:
        head += ["> [!NOTE]", "\n>\n".join(f"> {line}" for line in targets_note(plan, markdown=True)), ""]
    if plan.is_empty:
        head += [_nothing_to_do(plan, view), ""]
    head += _markdown_notes(plan, room=limit // 4)
    text = "\n".join(head) + "\n" + (mermaid_section(plan) if view == "plan" else "")
    sections = [_markdown_group(title, group) if title else _markdown_change(group[0], view, diff)
                for title, group in shown_changes(plan)]
    for shown, section in enumerate(sections):
        note = _cut_note(len(sections) - shown)
        if len(text) + len(section) + len(note) <= limit:
            text += section
            continue
        room = limit - len(text) - len(note) - len(_cut_note(len(sections) - shown - 1))
        if room > 400:  # enough for a useful part of this change
            text += _shorten_section(section, room)
            shown += 1
        return text + _cut_note(len(sections) - shown)
    return text


def summary_line(plan: Plan, view: View = "plan") -> str:
    s = plan.summary
    if view == "drift":
        drifted = [([c for c in plan.changes if c.drift == kind], text) for kind, text in _DRIFT_COUNTED]
        shown = [(changes, text) for changes, text in drifted if changes]
        if not shown:
            return "No drift."
        (changes, text), rest = shown[0], shown[1:]
        first = f"{counted({c.kind for c in changes}, len(changes))} {text}"
        return "Drift: " + ", ".join([first, *(f"{len(n)} {t}" for n, t in rest)]) + "."
    adopt = f"{s.adopt} to adopt, " if s.adopt else ""
    return f"Plan: {adopt}{s.create} to create, {s.update} to update, {s.delete} to delete."


def targets_note(plan: Plan, *, markdown: bool = False) -> list[str]:
    """The lines saying a plan is partial (``--target``), and which targets matched nothing."""
    if not plan.targets:
        return []
    code = (lambda text: f"`{text}`") if markdown else (lambda text: text)
    lines = [f"Partial plan: only --target {', '.join(code(k) for k in plan.targets)}. Other keys may still "
             "differ from the manifests; plan without --target to see every change."]
    if plan.unmatched_targets:
        keys = ", ".join(code(k) for k in plan.unmatched_targets)
        lines.append(f"Warning: --target {keys} matches no manifest and no {_noun(plan)} of this stack.")
    return lines


def change_title(change: Change, view: View = "plan") -> str:
    """What will happen to whom, e.g. 'support-bot (asst_1) "Support" will be updated in place'.

    The drift report also says why no manifest edit explains a create, adopt or delete.
    """
    name = f" {to_json(change.name)}" if change.name else ""
    what = {
        Action.CREATE: "will be created",
        Action.ADOPT: "will be adopted (tagged as managed by this stack)",
        Action.UPDATE: "will be updated in place",
        Action.DELETE: "will be deleted",
    }[change.action]
    if change.version is not None and change.action in (Action.UPDATE, Action.ADOPT):
        what = f"will get a new version ({change.version} -> {_next_version(change.version)})" + (
            ", adopted (tagged as managed by this stack)" if change.action is Action.ADOPT else "")
    elif change.action is Action.DELETE and _is_versioned(change):
        what = "will be deleted with every version"
    detail = ""
    if change.action is Action.UPDATE and change.drift == "untracked":
        detail = f" ({_UNTRACKED}: created or retagged outside assistants-sync)"
    elif change.action is Action.UPDATE and change.cause:
        detail = f" ({_CAUSE_TEXT[change.cause]})"
    elif change.action in (Action.DELETE, Action.CREATE) and change.reason:
        detail = f": {change.reason}"
    if view == "drift" and change.drift:
        detail += _DRIFT_TEXT.get(change.action, {}).get(change.drift, "")
    return f"{change_label(change)}{name} {what}{detail}"


def field_diff(change: Change, diff: DiffStyle = DiffStyle()) -> list[DiffLine]:
    """Every line describing the change's fields, as both text and Markdown show them."""
    kind = kind_named(change.kind)
    tool_identity = kind.tool_identity if kind is not None else tool_type
    lines: list[DiffLine] = []
    kind = kind_named(change.kind)
    for name, field in change.fields.items():
        before = None if change.action is Action.CREATE else field.before
        shown = kind.field_lines(name, before, field.after) if kind is not None else None
        if shown is not None:
            lines += [DiffLine(line_kind, text) for line_kind, text in shown]  # type: ignore[arg-type]
        elif change.action is Action.CREATE:
            lines += value_lines(name, field.after, diff)
        else:
            lines += change_lines(name, field.before, field.after, diff, tool_identity)
    if change.action in (Action.UPDATE, Action.ADOPT) and change.unchanged:
        lines.append(DiffLine("note", f"({change.unchanged} unchanged field{'s' if change.unchanged != 1 else ''} hidden)"))
    if change.action is not Action.DELETE:
        lines += _made_first(change)
    if change.deletes_versions:
        lines.append(DiffLine("note", f"(then {_versions(change.deletes_versions)} deleted: this stack's older than "
                                      f"the newest {change.keep_versions}, keep_versions)"))
    return lines


def _versions(numbers: list[str]) -> str:
    """"version 3 is", "versions 1, 2 and 3 are"."""
    if len(numbers) == 1:
        return f"version {numbers[0]} is"
    return f"versions {', '.join(numbers[:-1])} and {numbers[-1]} are"


def _next_version(version: str) -> str:
    """The number the server gives the next version (it counts up), or "next" for a version that is no number."""
    return str(int(version) + 1) if version.isdigit() else "next"


def _is_versioned(change: Change) -> bool:
    kind = kind_named(change.kind)
    return kind is not None and kind.versioned


def _made_first(change: Change) -> list[DiffLine]:
    """Notes on the objects it names that this plan creates: their ids are known only after apply."""
    unknown: dict[str, list[str]] = {}
    for ref in change.depends_on:
        if ref.id is None:
            unknown.setdefault(ref.kind, []).append(ref.key)
    lines = []
    for kind_name, keys in unknown.items():
        kind = kind_named(kind_name)
        if kind is None or kind.declared:  # a key a manifest names; a derived object (an upload) is counted
            lines += [DiffLine("note", f"({kind_name} {key}: id known after apply)") for key in keys]
        else:
            ids = "id" if len(keys) == 1 else "ids"
            lines.append(DiffLine("note", f"({kind.counted(len(keys)) if kind else len(keys)} created by this plan: "
                                          f"{ids} known after apply)"))
    return lines


def shown_changes(plan: Plan) -> list[tuple[str | None, list[Change]]]:
    """The changes as a plan shows them: each on its own, or a kind's changes of one action as one line
    (`Kind.group_title`: uploads are counted, not listed), at the place of the first of them."""
    groups: dict[tuple[str, Action], list[Change]] = {}
    for change in plan.changes:
        groups.setdefault((change.kind, change.action), []).append(change)
    titles = {group: kind.group_title(group[1].value, changes) if (kind := kind_named(group[0])) else None
              for group, changes in groups.items()}
    shown: list[tuple[str | None, list[Change]]] = []
    for change in plan.changes:
        group = (change.kind, change.action)
        if titles[group] is None:
            shown.append((None, [change]))
        elif groups[group][0] is change:
            shown.append((titles[group], groups[group]))
    return shown


def _text_group(title: str, group: list[Change], paint: Callable[..., str]) -> str:
    action = group[0].action
    return paint(f"  {SYMBOLS[action]} {title}", _ACTION_COLOR[action], bold=True) + "\n"


def _markdown_group(title: str, group: list[Change]) -> str:
    action = group[0].action
    return f"<code>{SYMBOLS[action]} {action.value}</code> {_escape_html(title)}\n\n"


def change_label(change: Change) -> str:
    """The key (after its kind, unless the default one), the previous key and the id."""
    key = f"{change.key} (was {change.previous_key})" if change.previous_key else change.key
    if change.kind != DEFAULT_KIND:
        key = f"{change.kind} {key}"
    return f"{key} ({change.id})" if change.id else key


def _key_of(change: Change) -> str:
    return change.key if change.kind == DEFAULT_KIND else f"{change.kind} {change.key}"


def _nothing_to_do(plan: Plan, view: View) -> str:
    """The line above the summary of an empty plan (the summary already says "No drift.")."""
    skipped = plan.skipped_deletes
    if plan.targets:
        if view == "drift":
            return "The targeted keys are as last applied."
        return f"No changes for the targeted keys{'; ' + _deletes_left_out(skipped) if skipped else ''}."
    count = plan.managed_count
    managed = counted(plan.kinds, count).replace(" ", " managed ", 1)
    if view == "drift":
        return f"The {managed} {'are' if count != 1 else 'is'} as last applied."
    if not skipped:
        return f"No changes. The {managed} {'match' if count != 1 else 'matches'} the manifests."
    # The deleted ones do not match: say so, and what the rest do.
    line = f"No changes. {_deletes_left_out(skipped)}; plan without --no-delete to see {'it' if skipped == 1 else 'them'}."
    others = count - skipped
    if others == 1:
        line += f" The other managed {_noun(plan)} matches the manifests."
    elif others > 1:
        line += f" The other {counted(plan.kinds, others).replace(' ', ' managed ', 1)} match the manifests."
    return line


def _deletes_left_out(count: int) -> str:
    return f"--no-delete left out {count} delete{'s' if count != 1 else ''}"


def _delete_banner(plan: Plan, *, markdown: bool) -> str:
    # Objects the manifests declare; an upload no longer used is content replaced, counted on its own line.
    deletes = [c for c in plan.changes if c.action is Action.DELETE and getattr(kind_named(c.kind), "declared", True)]
    if not deletes:
        return ""
    code = (lambda text: f"`{text}`") if markdown else (lambda text: text)
    names = ", ".join(f"{code(_key_of(c))} ({c.id})" for c in deletes[:10])
    more = f" and {len(deletes) - 10} more" if len(deletes) > 10 else ""
    lead = f"{counted({c.kind for c in deletes}, len(deletes))} will be deleted:"
    return f"{'**' + lead + '**' if markdown else lead} {names}{more}"


def _painter(color: bool) -> Callable[..., str]:
    import click  # only for ANSI styling; the library stays usable without the CLI

    def paint(text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if color and (fg or bold) else text

    return paint


def _text_change(change: Change, paint: Callable[..., str], view: View, diff: DiffStyle) -> str:
    color = _ACTION_COLOR[change.action]
    lines = [paint(f"  {SYMBOLS[change.action]} {change_title(change, view)}", color, bold=True)]
    lines += [paint(f"      {line.text}", _KIND_COLOR[line.kind]) for line in field_diff(change, diff)]
    return "\n".join(lines) + "\n"


def _markdown_notes(plan: Plan, room: int) -> list[str]:
    """One [!NOTE] block per note, within `room` characters (the changes need the rest of the limit)."""
    lines: list[str] = []
    for index, remark in enumerate(plan.notes):
        block = ["> [!NOTE]", f"> `{remark.key}`: {_escape_html(remark.text)}", ""]
        room -= sum(len(line) + 1 for line in block)
        if room < 0:
            hidden = len(plan.notes) - index
            return lines + [f"_… {hidden} more note{'s' if hidden != 1 else ''} not shown; "
                            "`--format json` lists them all._", ""]
        lines += block
    return lines


def _markdown_change(change: Change, view: View, diff: DiffStyle) -> str:
    body = "\n".join(_markdown_prefix(line) for line in field_diff(change, diff))
    fence = "`" * max(3, _longest_backtick_run(body) + 1)
    summary = f"<code>{SYMBOLS[change.action]} {change.action.value}</code> {_escape_html(change_title(change, view))}"
    content = f"\n{fence}diff\n{body}\n{fence}\n" if body else "\n"
    return f"<details><summary>{summary}</summary>\n{content}\n</details>\n\n"


def _markdown_prefix(line: DiffLine) -> str:
    """A diff line for a ```diff block: GitHub colours lines by their first character."""
    stripped = line.text.lstrip()
    if line.kind == "hunk":
        return stripped
    indent = " " * (len(line.text) - len(stripped))
    marker = {"added": "+", "removed": "-"}.get(line.kind, " ")
    if marker != " " and stripped[:1] == marker:
        stripped = stripped[1:].removeprefix(" ")  # the marker moves to the first column
    return f"{marker} {indent}{stripped}"


def _shorten_section(section: str, room: int) -> str:
    """The section cut to `room` characters, keeping the @@ header of each hunk past the cut (as room allows)."""
    fence = next((line[:-4] for line in section.splitlines() if line.startswith("```") and line.endswith("diff")), "```")
    end = f"{fence}\n\n</details>\n\n"
    cut = room
    for _ in range(8):  # a shorter cut moves more headers past it; this settles in a step or two
        kept = section[:cut].rsplit("\n", 1)[0]
        headers = [line for line in section[len(kept):].splitlines() if line.startswith("@@")]
        note = _section_cut_note(headers, room // 2)
        if len(kept) + len(note) + len(end) <= room:
            return kept + note + end
        cut = max(0, room - len(note) - len(end))
    return section[:cut].rsplit("\n", 1)[0] + _section_cut_note([], 0) + end


def _section_cut_note(headers: list[str], room: int) -> str:
    if not headers:
        return "\n… (this change is cut here; the JSON plan has all of it)\n"
    listed = _fitting_lines(headers, room)
    hidden = len(headers) - len(listed)
    more = f"… and {hidden} more hunk{'s' if hidden != 1 else ''}\n" if hidden else ""
    return ("\n… (this change is cut here; the JSON plan has all of it); the hunks past the cut:\n"
            + "".join(line + "\n" for line in listed) + more)


def _fitting_lines(lines: list[str], room: int) -> list[str]:
    """The first of `lines` that fit in `room` characters (each with its newline)."""
    fitting: list[str] = []
    used = 0
    for line in lines:
        used += len(line) + 1
        if used > room:
            break
        fitting.append(line)
    return fitting


def _cut_note(hidden: int) -> str:
    if hidden <= 0:
        return ""
    return (f"_… {hidden} more change{'s' if hidden != 1 else ''} not shown: the report is cut at "
            f"{MARKDOWN_LIMIT:,} characters. The summary above counts every change; "
            "`--format json` lists them all._\n")


def _longest_backtick_run(text: str) -> int:
    longest = current = 0
    for char in text:
        current = current + 1 if char == "`" else 0
        longest = max(longest, current)
    return longest


def _escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _noun(plan: Plan) -> str:
    return counted(plan.kinds, 1).split(" ", 1)[1]
