"""The channel registry: every kind of channel (``kind = "…"`` under ``[channels.NAME]``) and the
module that implements it.

A channel module declares ``KIND``, its pydantic ``Config`` model (a `ChannelConfig` with
``kind: Literal[KIND]``), ``PAYLOAD_ONLY`` and the functions ``payload_builder`` and ``send``
(the `ChannelKind` protocol in `monitor.channels.base`). The config builds its ``channels``
table from `CHANNELS`, so the accepted kinds, the error for an unknown one and the delivery
dispatch all follow this list, which holds every module of this package that declares a
``KIND``: adding a kind is adding its module. docs/adding-a-channel.md walks through one.

`monitor.config` imports this package, and nothing here may import the config module or the
sending code: a channel module keeps its model at the top, built on `monitor.config_parts`,
and imports what it sends with (SMTP, HTTP, chat formats) inside ``send`` and
``payload_builder``. Reading the config therefore loads no sender and no other stage.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field

from monitor.channels.base import ChannelConfig, ChannelKind, SendContext

__all__ = ["CHANNELS", "ChannelConfig", "ChannelKind", "ChannelUnion", "SendContext", "kind_of"]

# The shipped kinds first, in the order `monitor check` names them ("kind must be one of:
# file, email, webhook"); a module added to this package comes after them, by name.
_SHIPPED = ("file", "email", "webhook")


def _discover() -> tuple[ModuleType, ...]:
    """Every module of this package that declares a KIND: adding a channel is adding one."""
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    names = [n for n in _SHIPPED if n in names] + sorted(set(names) - set(_SHIPPED))
    modules = [importlib.import_module(f"{__name__}.{name}") for name in names]
    return tuple(m for m in modules if hasattr(m, "KIND"))


_MODULES: tuple[ModuleType, ...] = _discover()

CHANNELS: dict[str, ChannelKind] = {m.KIND: m for m in _MODULES}

# What a [channels.NAME] table validates as: the model of the kind it names. A type checker
# sees the common base; code wanting a kind's own keys asks with isinstance.
if TYPE_CHECKING:
    ChannelUnion = ChannelConfig
else:
    ChannelUnion = Annotated[
        Union[tuple(m.Config for m in _MODULES)],  # noqa: UP007 (built at run time)
        Field(discriminator="kind"),
    ]


def kind_of(config: Any) -> ChannelKind:
    """The module implementing a channel's kind (KeyError for a kind not registered)."""
    return CHANNELS[config.kind]
