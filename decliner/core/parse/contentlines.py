"""iCalendar content lines (RFC 5545 3.1) kept with their original bytes, for minimal edits.

A line that is not changed is written back exactly as read, folding included; only a
changed line is rendered afresh and refolded at 75 octets.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

_BREAK = re.compile(r"(\r\n|\r|\n)")
_NAME = re.compile(r"[A-Za-z0-9-]+")
# A parameter: name "=" values, each quoted (may hold ";", ":" and ",") or bare.
_PARAM = re.compile(r';([A-Za-z0-9-]+)=((?:"[^"]*"|[^";:,]*)(?:,(?:"[^"]*"|[^";:,]*))*)')
_FOLD_OCTETS = 75


@dataclass(frozen=True, slots=True)
class Line:
    """One logical line: `raw` as read (folds and line ending), `text` unfolded."""

    raw: str
    text: str

    @property
    def name(self) -> str:
        """The property name (or BEGIN/END), upper-case."""
        found = _NAME.match(self.text.lstrip("\ufeff"))
        return found.group(0).upper() if found else ""

    @property
    def value(self) -> str:
        """The text after the name for BEGIN/END lines, upper-case and stripped."""
        return self.text.partition(":")[2].strip().upper()


@dataclass(slots=True)
class Property:
    """A content line split into name, parameters (values as written) and value."""

    name: str
    params: list[tuple[str, str]] = field(default_factory=list)
    value: str = ""

    def get(self, name: str) -> str | None:
        """The first value of parameter `name` as written (quotes kept), or None."""
        return next((v for n, v in self.params if n.upper() == name.upper()), None)

    def set(self, name: str, value: str) -> None:
        """Set parameter `name` where it first stood (dropping repeats), else append it."""
        kept: list[tuple[str, str]] = []
        done = False
        for key, old in self.params:
            if key.upper() != name.upper():
                kept.append((key, old))
            elif not done:
                kept.append((key, value))
                done = True
        self.params[:] = kept if done else [*kept, (name, value)]

    def drop(self, name: str) -> None:
        """Remove every occurrence of parameter `name`."""
        self.params[:] = [p for p in self.params if p[0].upper() != name.upper()]

    def render(self) -> str:
        """The unfolded content line."""
        params = "".join(f";{name}={value}" for name, value in self.params)
        return f"{self.name}{params}:{self.value}"


def vevent_spans(lines: Sequence[Line]) -> list[tuple[int, int, tuple[int, ...]]]:
    """Each top-level VEVENT's BEGIN and END index and its own property lines."""
    stack: list[str] = []
    spans: list[tuple[int, int, tuple[int, ...]]] = []
    begin, props, closed = 0, list[int](), False
    for index, line in enumerate(lines):
        if not line.text.strip():
            continue
        if closed or (not stack and (line.name, line.value) != ("BEGIN", "VCALENDAR")):
            raise ValueError("calendar resource is not one VCALENDAR")
        if line.name == "BEGIN":
            stack.append(line.value)
            begin, props = (index, []) if stack == ["VCALENDAR", "VEVENT"] else (begin, props)
        elif line.name == "END":
            if not stack or stack[-1] != line.value:
                raise ValueError(f"calendar resource has an unmatched END:{line.value}")
            if stack == ["VCALENDAR", "VEVENT"]:
                spans.append((begin, index, tuple(props)))
            stack.pop()
            closed = not stack
        elif stack == ["VCALENDAR", "VEVENT"]:
            props.append(index)
    if stack or not closed:
        raise ValueError("calendar resource ends inside a component")
    return spans


def split_lines(text: str) -> list[Line]:
    """The logical lines of `text`; joining their `raw` gives `text` back exactly."""
    pieces = _BREAK.split(text)
    physical = [
        pieces[i] + (pieces[i + 1] if i + 1 < len(pieces) else "") for i in range(0, len(pieces), 2)
    ]
    lines: list[Line] = []
    for raw in physical:
        if not raw:
            continue
        content = _BREAK.sub("", raw)
        if lines and content[:1] in {" ", "\t"}:
            last = lines[-1]
            lines[-1] = Line(last.raw + raw, last.text + content[1:])
        else:
            lines.append(Line(raw, content))
    return lines


def line_ending(text: str) -> str:
    """The line ending `text` uses: CRLF unless its first break is a bare LF or CR."""
    found = _BREAK.search(text)
    return found.group(0) if found else "\r\n"


def parse(text: str) -> Property:
    """A content line's name, parameters and value; ValueError when it has no ":"."""
    found = _NAME.match(text)
    if found is None:
        raise ValueError(f"content line has no name: {text[:60]!r}")
    position = found.end()
    params: list[tuple[str, str]] = []
    while (param := _PARAM.match(text, position)) is not None:
        params.append((param.group(1), param.group(2)))
        position = param.end()
    if text[position : position + 1] != ":":
        raise ValueError(f"content line has no value: {text[:60]!r}")
    return Property(found.group(0), params, text[position + 1 :])


def unquote(value: str) -> str:
    """A single parameter value without its DQUOTEs."""
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _chunks(text: str) -> Iterator[str]:
    """`text` in pieces of at most 75 octets (74 after the first), whole characters only."""
    limit, chunk, size = _FOLD_OCTETS, "", 0
    for char in text:
        octets = len(char.encode("utf-8"))
        if size + octets > limit:
            yield chunk
            limit, chunk, size = _FOLD_OCTETS - 1, "", 0
        chunk += char
        size += octets
    yield chunk


def fold(text: str, eol: str) -> str:
    """An unfolded line folded at 75 octets, with `eol` after every physical line."""
    return "".join(
        (" " if index else "") + chunk + eol for index, chunk in enumerate(_chunks(text))
    )
