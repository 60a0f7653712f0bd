"""A subcommand's options, declared once with click, and the words people typed read into values.

    START = Options(
        "start",
        Words("name", missing="Give the incident a name."),
        Option("--playbook", needs="--playbook needs a title."),
        Option("--private/--public", "private", once="Choose one of --private and --public."),
    )
    values = START.parse(split_args(request.args))   # {"name": "Big", "private": True}

`parse` returns the values of the options that were given (by click parameter name) and the
free words joined by spaces; every mistake is a `UsageError` with one of our sentences, never
one of click's English messages.

What click does here: the declarations are `click.Option`s (names, `--yes/--no` pairs, types) of
one `click.Command` (its context carries the case folding of option names and choices), and each
value is converted and checked by its click type, whose `BadParameter` becomes the option's
`invalid` sentence.

What is done by hand, and why: splitting the words into options and values. click's parser
cannot read them as the bot always has:
- a value that runs over several words up to the next option (`--search db is down`): click
  options take a fixed number of words;
- a value stops at an option: click takes `--status --sort x` as the status "--sort";
- `--` and `--status=ended` are unknown options: click ends the options at `--` and splits at `=`;
- a word with one dash (`-x`, `-5`) is a free word: click reads it as short options;
- a repeated option can be an error ("Choose one of ..."): click keeps the last one silently;
- the first mistake from the left is the one reported: click reports every unknown option or
  missing value before any bad value.
"""

from __future__ import annotations

import shlex
from typing import Any

import click

from chat.registry import UsageError
from render.text import safe
from services.errors import Invalid


class WholeNumber(click.ParamType[int]):
    """A whole number a person typed, from `minimum` (to `maximum`): ASCII digits, at most 9 of them.

    Not click.IntRange: it calls int(), which also takes "+5", " 5", "1_000", "٣" and any length.
    """

    name = "number"

    def __init__(self, minimum: int = 1, maximum: int | None = None):
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value)
        if not is_number(text) or int(text) < self.minimum or (self.maximum is not None and int(text) > self.maximum):
            self.fail("not a whole number", param, ctx)  # never shown: the option's `invalid` is
        return int(text)


class Option(click.Option):
    """A click option and what a person is told when it is misused.

    needs: said when it has no value (default "<name> needs a value.").
    invalid: said when its click type rejects the value; required with any type but text.
    once: a second use is an error: True says "<name> is given twice.", a string says that
        string; False keeps the last use, as click does.
    run_on: the value is every word up to the next option, joined by spaces, so quotes are
        optional (only for Options(..., values_stop_at_options=True)).
    """

    def __init__(self, *decls: str, needs: str | None = None, invalid: str | None = None,
                 once: bool | str = False, run_on: bool = False, **attrs: Any):
        super().__init__(list(decls), **attrs)
        if self.nargs != 1 or self.multiple or self.count or (self.is_flag and not self.is_bool_flag):
            raise ValueError(f"{self.opts[0]}: one value per use, or an on/off flag")
        if invalid is None and not self.is_flag and not isinstance(self.type, click.types.StringParamType):
            raise ValueError(f"{self.opts[0]}: say what `invalid` tells a person")
        self.needs = needs or f"{self.opts[0]} needs a value."
        self.invalid = invalid or f"{self.opts[0]} has a value I cannot use."
        self.twice = (f"{self.opts[0]} is given twice." if once is True else once) or None
        self.run_on = run_on


class Words(click.Argument):
    """The free words (those not starting with "--"), joined by spaces; `missing` is said when
    there are none (without it, none is "")."""

    def __init__(self, name: str, *, missing: str | None = None):
        super().__init__([name], nargs=-1, required=False)
        self.missing = missing


class Options:
    """One subcommand's options.

    case_insensitive: option names and choice values are read in lower case (`--STATUS ENDED`).
    values_stop_at_options: a value is the words after its option up to the next option of
        this command (one word unless `run_on`); none, or an empty one, is no value. Otherwise
        the value is the next word whatever it is (`--playbook --private` names "--private").
    Without `Words`, a free word is an unknown option.
    """

    def __init__(self, name: str, *params: Option | Words, case_insensitive: bool = False,
                 values_stop_at_options: bool = False):
        settings = {"token_normalize_func": str.lower} if case_insensitive else {}
        self.command = click.Command(name, params=list(params), add_help_option=False, context_settings=settings)
        self.values_stop_at_options = values_stop_at_options
        self.words = next((p for p in params if isinstance(p, Words)), None)
        self._fold = str.lower if case_insensitive else str
        self._by_name: dict[str, Option] = {}
        for option in params:
            if isinstance(option, Words):
                continue
            if option.run_on and not values_stop_at_options:
                raise ValueError(f"{option.opts[0]}: run_on needs values_stop_at_options")
            for typed in option.opts + option.secondary_opts:
                if not typed.startswith("--"):
                    raise ValueError(f"{typed}: options are written --name (a word with one dash is a free word)")
                self._by_name[self._fold(typed)] = option

    def parse(self, words: list[str]) -> dict[str, Any]:
        ctx = click.Context(self.command, info_name=self.command.name, **self.command.context_settings)
        values: dict[str, Any] = {}
        free: list[str] = []
        index = 0
        while index < len(words):
            word = words[index]
            index += 1
            if not word.startswith("--") and self.words is not None:
                free.append(word)
                continue
            folded = self._fold(word)
            option = self._by_name.get(folded)
            if option is None:
                raise UsageError(f"I don't know the option {safe(word)}.")
            if option.name in values and option.twice:
                raise UsageError(option.twice)
            if option.is_flag:
                values[option.name] = folded in map(self._fold, option.opts)  # --private: True, --public: False
                continue
            taken = self._value_words(words, index, option)
            index += len(taken)
            value = " ".join(taken)
            if not taken or (self.values_stop_at_options and not value):
                raise UsageError(option.needs)
            try:
                values[option.name] = option.type_cast_value(ctx, value)
            except click.ClickException:
                raise UsageError(option.invalid) from None
        if self.words is not None:
            if not free and self.words.missing:
                raise UsageError(self.words.missing)
            values[self.words.name] = " ".join(self.words.type_cast_value(ctx, tuple(free)))
        return values

    def _value_words(self, words: list[str], start: int, option: Option) -> list[str]:
        if not self.values_stop_at_options:
            return words[start:start + 1]
        end = start
        while end < len(words) and (option.run_on or end == start) and self._fold(words[end]) not in self._by_name:
            end += 1
        return words[start:end]


def is_number(text: str) -> bool:
    """A whole number a person typed: ASCII digits (`"²".isdigit()` is true but `int("²")`
    fails), and few enough of them for a page, position or item number."""
    return text.isascii() and text.isdigit() and len(text) <= 9


def split_args(text: str) -> list[str]:
    """Shell-like words (quotes group words); a stray quote is a clear error, not a crash."""
    try:
        return shlex.split(text)
    except ValueError:
        raise Invalid("A quote is not closed: put the playbook title in matching \"double quotes\".") from None
