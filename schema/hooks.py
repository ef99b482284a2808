"""Strawberry's schema-extension runner, with each hook wrapped once per extension class.

For every request and every phase (operation, parsing, validation, execution),
Strawberry's runner looks up each extension's hook, tests whether it is a generator
function and wraps it, bound to the extension, in contextlib.contextmanager, whose
functools.update_wrapper copies the function's attributes each time. This runner
does that test and wrap once per extension class and phase, then binds the extension
with a partial: `contextmanager(f)(extension)` is the context manager
`contextmanager(MethodType(f, extension))()` is. Hooks run in the same order, with the
same exit stacks; hooks that are plain callables take Strawberry's own path.
"""

from __future__ import annotations

import contextlib
import inspect
from functools import partial
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

# (extension class, hook name) -> None (no hook), (wrapped, is_async), or _STRAWBERRY's
_WRAPPED: dict[tuple[type, str], Any] = {}
_STRAWBERRY = object()  # not a generator: Strawberry wraps it per request, as before


class _WrappedOnce:
    __slots__ = ()
    HOOK_NAME: str

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        key = (type(extension), self.HOOK_NAME)
        known = _WRAPPED.get(key)
        if known is None and key not in _WRAPPED:
            known = _WRAPPED[key] = _wrap(type(extension), self.HOOK_NAME)
        if known is None:
            return None
        if known is _STRAWBERRY:
            return super().get_hook(extension)  # type: ignore[misc]
        wrapped, is_async = known
        return WrappedHook(extension=extension, hook=partial(wrapped, extension), is_async=is_async)


def _wrap(cls: type, name: str) -> Any:
    hook = getattr(cls, name)
    if hook is getattr(SchemaExtension, name):
        return None
    if inspect.isgeneratorfunction(hook):
        return contextlib.contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return contextlib.asynccontextmanager(hook), True
    return _STRAWBERRY


class _Operation(_WrappedOnce, OperationContextManager):
    __slots__ = ()


class _Parsing(_WrappedOnce, ParsingContextManager):
    __slots__ = ()


class _Validation(_WrappedOnce, ValidationContextManager):
    __slots__ = ()


class _Executing(_WrappedOnce, ExecutingContextManager):
    __slots__ = ()


class WrappedOnceRunner(SchemaExtensionsRunner):
    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)
