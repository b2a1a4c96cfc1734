"""Go's ``encoding/json`` scanner, to say where and why a JSON stream is invalid in Go's words.

Only the error paths of the catalog loader use it: :func:`first_error` walks a stream of JSON values
the way ``json.Decoder`` does and reports the first syntax error (Go's message and ``Offset``, which
counts every byte of the stream up to and including the offending one) or a value cut short by the
end of the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_SPACE = frozenset(b" \t\r\n")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_PARSE_KEY, _PARSE_VALUE, _PARSE_ARRAY = 0, 1, 2
_MAX_DEPTH = 10000


def quote_char(c: int) -> str:
    """Go's ``quoteChar``: the byte as a rune in single quotes, escaped as ``strconv.Quote`` would."""
    if c == ord("'"):
        return "'\\''"
    if c == ord('"'):
        return "'\"'"
    ch = chr(c)  # Go converts the byte to the rune of the same number
    if ch == "\\":
        return "'\\\\'"
    escapes = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v"}
    if ch in escapes:
        return f"'{escapes[ch]}'"
    if c < 0x20 or c == 0x7F:
        return f"'\\x{c:02x}'"
    if 0x80 <= c <= 0xA0 or c == 0xAD:  # not printable in Go's tables
        return f"'\\u{c:04x}'"
    return f"'{ch}'"


class SyntaxFailure(Exception):
    """A byte Go's scanner refuses: its message and offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass
class _Scanner:
    """The state machine of Go's scanner.go, stepping one byte at a time."""

    bytes: int = 0
    step_name: str = "begin_value"
    parse_state: list[int] = field(default_factory=list)
    end_top: bool = False

    def reset(self) -> None:  # like Go, the byte count survives a reset
        self.step_name = "begin_value"
        self.parse_state = []
        self.end_top = False

    def error(self, c: int, context: str) -> None:
        raise SyntaxFailure(f"invalid character {quote_char(c)} {context}", self.bytes)

    def step(self, c: int) -> str:
        """Feed one byte; returns "continue", "end_value" (a top-level value just closed) or "end"."""
        return getattr(self, "_" + self.step_name)(c)

    # -- states -------------------------------------------------------------------------------
    def _push(self, c: int, state: int) -> None:
        self.parse_state.append(state)
        if len(self.parse_state) > _MAX_DEPTH:
            self.error(c, "exceeded max depth")

    def _begin_value_or_empty(self, c: int) -> str:
        if c in _SPACE:
            return "continue"
        if c == ord("]"):
            return self._end_value(c)
        return self._begin_value(c)

    def _begin_value(self, c: int) -> str:
        if c in _SPACE:
            return "continue"
        if c == ord("{"):
            self.step_name = "begin_string_or_empty"
            self._push(c, _PARSE_KEY)
            return "continue"
        if c == ord("["):
            self.step_name = "begin_value_or_empty"
            self._push(c, _PARSE_ARRAY)
            return "continue"
        literal = {ord('"'): "in_string", ord("-"): "neg", ord("0"): "zero", ord("t"): "t", ord("f"): "f"}
        literal[ord("n")] = "n"
        if c in literal:
            self.step_name = literal[c]
            return "continue"
        if ord("1") <= c <= ord("9"):
            self.step_name = "one"
            return "continue"
        self.error(c, "looking for beginning of value")
        return "continue"

    def _begin_string_or_empty(self, c: int) -> str:
        if c in _SPACE:
            return "continue"
        if c == ord("}"):
            self.parse_state[-1] = _PARSE_VALUE
            return self._end_value(c)
        return self._begin_string(c)

    def _begin_string(self, c: int) -> str:
        if c in _SPACE:
            return "continue"
        if c == ord('"'):
            self.step_name = "in_string"
            return "continue"
        self.error(c, "looking for beginning of object key string")
        return "continue"

    def _end_value(self, c: int) -> str:
        if not self.parse_state:
            self.step_name = "end_top"
            self.end_top = True
            return "end"
        if c in _SPACE:
            self.step_name = "end_value"
            return "continue"
        ps = self.parse_state[-1]
        if ps == _PARSE_KEY:
            if c == ord(":"):
                self.parse_state[-1] = _PARSE_VALUE
                self.step_name = "begin_value"
                return "continue"
            self.error(c, "after object key")
        elif ps == _PARSE_VALUE:
            if c == ord(","):
                self.parse_state[-1] = _PARSE_KEY
                self.step_name = "begin_string"
                return "continue"
            if c == ord("}"):
                return self._pop()
            self.error(c, "after object key:value pair")
        else:
            if c == ord(","):
                self.step_name = "begin_value"
                return "continue"
            if c == ord("]"):
                return self._pop()
            self.error(c, "after array element")
        return "continue"

    def _pop(self) -> str:
        self.parse_state.pop()
        if not self.parse_state:
            self.step_name = "end_top"
            self.end_top = True
            return "end_value"
        self.step_name = "end_value"
        return "continue"

    def _end_top(self, c: int) -> str:
        return "end"

    def _in_string(self, c: int) -> str:
        if c == ord('"'):
            self.step_name = "end_value"
        elif c == ord("\\"):
            self.step_name = "in_string_esc"
        elif c < 0x20:
            self.error(c, "in string literal")
        return "continue"

    def _in_string_esc(self, c: int) -> str:
        if c in b'bfnrt\\/"':
            self.step_name = "in_string"
        elif c == ord("u"):
            self.step_name = "esc_u0"
        else:
            self.error(c, "in string escape code")
        return "continue"

    def _hex(self, c: int, following: str) -> str:
        if c not in _HEX:
            self.error(c, "in \\u hexadecimal character escape")
        self.step_name = following
        return "continue"

    def _esc_u0(self, c: int) -> str:
        return self._hex(c, "esc_u1")

    def _esc_u1(self, c: int) -> str:
        return self._hex(c, "esc_u2")

    def _esc_u2(self, c: int) -> str:
        return self._hex(c, "esc_u3")

    def _esc_u3(self, c: int) -> str:
        return self._hex(c, "in_string")

    def _neg(self, c: int) -> str:
        if c == ord("0"):
            self.step_name = "zero"
        elif ord("1") <= c <= ord("9"):
            self.step_name = "one"
        else:
            self.error(c, "in numeric literal")
        return "continue"

    def _one(self, c: int) -> str:
        if c in _DIGITS:
            return "continue"
        return self._zero(c)

    def _zero(self, c: int) -> str:
        if c == ord("."):
            self.step_name = "dot"
            return "continue"
        if c in b"eE":
            self.step_name = "e"
            return "continue"
        return self._end_value(c)

    def _dot(self, c: int) -> str:
        if c not in _DIGITS:
            self.error(c, "after decimal point in numeric literal")
        self.step_name = "dot0"
        return "continue"

    def _dot0(self, c: int) -> str:
        if c in _DIGITS:
            return "continue"
        if c in b"eE":
            self.step_name = "e"
            return "continue"
        return self._end_value(c)

    def _e(self, c: int) -> str:
        if c in b"+-":
            self.step_name = "e_sign"
            return "continue"
        return self._e_sign(c)

    def _e_sign(self, c: int) -> str:
        if c not in _DIGITS:
            self.error(c, "in exponent of numeric literal")
        self.step_name = "e0"
        return "continue"

    def _e0(self, c: int) -> str:
        if c in _DIGITS:
            return "continue"
        return self._end_value(c)

    def _word(self, c: int, want: str, literal: str, following: str) -> str:
        if c != ord(want):
            self.error(c, f"in literal {literal} (expecting {quote_char(ord(want))})")
        self.step_name = following
        return "continue"

    def _t(self, c: int) -> str:
        return self._word(c, "r", "true", "tr")

    def _tr(self, c: int) -> str:
        return self._word(c, "u", "true", "tru")

    def _tru(self, c: int) -> str:
        return self._word(c, "e", "true", "end_value")

    def _f(self, c: int) -> str:
        return self._word(c, "a", "false", "fa")

    def _fa(self, c: int) -> str:
        return self._word(c, "l", "false", "fal")

    def _fal(self, c: int) -> str:
        return self._word(c, "s", "false", "fals")

    def _fals(self, c: int) -> str:
        return self._word(c, "e", "false", "end_value")

    def _n(self, c: int) -> str:
        return self._word(c, "u", "null", "nu")

    def _nu(self, c: int) -> str:
        return self._word(c, "l", "null", "nul")

    def _nul(self, c: int) -> str:
        return self._word(c, "l", "null", "end_value")


@dataclass(frozen=True)
class StreamError:
    """Why ``json.Decoder`` stopped: ``values`` values decoded before the failing one; ``offset`` is
    None when the input ended inside a value (Go's ``unexpected EOF``)."""

    values: int
    message: str
    offset: int | None


def first_error(data: bytes) -> StreamError | None:
    """The first error ``json.Decoder`` meets reading ``data`` value after value, or None."""
    scan = _Scanner()
    values = 0
    i = 0
    n = len(data)
    while True:
        scan.reset()
        started = False
        while i < n:
            c = data[i]
            scan.bytes += 1
            try:
                op = scan.step(c)
            except SyntaxFailure as exc:
                return StreamError(values, exc.message, exc.offset)
            if not started and c not in _SPACE:
                started = True
            if op == "end_value":
                i += 1
                break
            if op == "end":  # a number ended before this byte, which the next value starts with
                break
            i += 1
        else:
            if not started:
                return None
            try:
                if scan.step(ord(" ")) != "continue" or scan.end_top:
                    return None  # a number running to the end of the input
            except SyntaxFailure:
                pass
            return StreamError(values, "unexpected EOF", None)
        values += 1
