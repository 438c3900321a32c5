"""The one owner of the page's state: the last valid network, the selection, the messages.

Views, editor and feature view WATCH these params; every change goes through a public
action (buttons, the drill and the tests use the same ones). An action validates with the
core first, then sets `network` and `selection` together (one batched update); when a
candidate is invalid, or drawing it fails anywhere, the last valid network stays (and is
put back everywhere) and `error`/`notice` say why. See docs/design.md §3.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

import panel as pn
import param

from .. import edits
from ..analysis import Analysis, analyse
from ..exercise import new_exercise
from ..features import BUSY_SECONDS, update_seconds
from ..palette import piece
from ..presets import PRESETS, preset_json
from ..spec import ArchitectureError, Network, default_network, from_json
from ..text import json_problem, strip_bom
from ..urlstate import decode_arch

log = logging.getLogger(__name__)

UNCHANGED = "The network on screen is unchanged."


def _import_with_notes(text: str, size: tuple[int, int, int]) -> tuple[Network, list[str]]:
    """The core importer: the network and what it assumed (shown by the editor)."""
    from ..importer import import_model   # only when a model is pasted
    network, notes = import_model(text, size, name="Imported model")
    return network, list(notes)


class ExplorerState(param.Parameterized):
    """Network, selection and messages of one page, with the actions that change them."""

    network = param.ClassSelector(class_=Analysis, doc="The analysis of the last valid network.")
    selection = param.Integer(default=None, allow_None=True,
                              doc="Selected record index (0 = Input) of `network`, or None.")
    error = param.String(default="", doc="Why the last edit was refused (shown by the editor), or ''.")
    notice = param.String(default="", doc="A page-level message (bad link, failed redraw), or ''.")
    notes = param.List(default=[], item_type=str, doc="What the importer assumed for the model shown.")
    busy = param.String(default="", doc="A status line while a long update waits to run, or ''.")

    def __init__(self, network: Network | None = None, **params: Any) -> None:
        super().__init__(network=analyse(network or default_network()), **params)
        # How to run a long update later, after the busy line has reached the browser (the page
        # sets it; False means "cannot wait", then the update runs at once). docs/design.md §8.
        self.defer: Callable[[Callable[[], None]], bool] = lambda _callback: False
        self._generation = 0   # the newest pending update wins

    # -- reading -------------------------------------------------------------------------------
    @property
    def analysis(self) -> Analysis:
        return self.network

    @property
    def selected_name(self) -> str | None:
        return None if self.selection is None else self.network.records[self.selection].name

    def index_of(self, name: str | None) -> int | None:
        names = [r.name for r in self.network.records]
        return names.index(name) if name in names else None

    # -- selection -----------------------------------------------------------------------------
    def select(self, name: str | int | None) -> None:
        """Select a record by name (or index); None clears. An unknown name raises KeyError."""
        if name is None or isinstance(name, int):
            index = name
        else:
            index = self.index_of(name)
            if index is None:
                raise KeyError(name)
        if index is not None and not 0 <= index < len(self.network.records):
            raise KeyError(index)
        try:
            self.selection = index
        except Exception as exc:   # noqa: BLE001 - a watcher failed: say it on the page, keep going
            log.exception("a view failed to follow the selection")
            self.notice = (f"Selecting this layer failed in the editor or the feature maps ({exc.__class__.__name__}: "
                           f"{exc}); the card and the diagram are up to date.")

    # -- whole networks ------------------------------------------------------------------------
    def apply_json(self, data: Any, *, select: int | None | str = "keep", notes: list[str] | None = None) -> str | None:
        """Validate and show a candidate network; return the refusal message, or None.

        `select`: "keep" keeps the selected index where it still exists, else the index to select.
        Any failure (not only an ArchitectureError) keeps the last valid network everywhere.
        """
        try:
            analysis = analyse(from_json(data))
        except ArchitectureError as exc:
            return self._refuse(f"{exc}")
        except Exception as exc:   # noqa: BLE001 - e.g. a RecursionError from a pathological dict
            log.exception("validating a network failed")
            return self._refuse(f"This network could not be checked ({exc.__class__.__name__}: {exc}). {UNCHANGED}")
        index = self.selection if select == "keep" else select
        if index is not None and not 0 <= index < len(analysis.records):   # type: ignore[operator]
            index = None
        if not self.show(analysis, index, notes or []):   # type: ignore[arg-type]
            return self._refuse(f"This network could not be shown (the details are in the notice above). {UNCHANGED}")
        return None

    def show(self, analysis: Analysis, index: int | None, notes: list[str] | None = None,
             then: Callable[[bool], None] | None = None) -> bool:
        """Show `analysis`; when that will take more than BUSY_SECONDS, set `busy` first and do
        it later through `defer` (a newer update then wins). `then(shown)` runs afterwards."""
        self._generation += 1
        generation = self._generation

        def finish() -> bool:
            if generation != self._generation:
                return True          # a newer network was applied meanwhile
            # One hold for the network, what `then` selects and the busy line: sent apart, a
            # selection could reach the browser before the data it indexes (a link's layer=
            # then named a layer of the previous network, and the card ended up empty).
            with pn.io.hold():
                shown = self._show_now(analysis, index, notes)
                if then is not None:
                    then(shown)
                self.busy = ""        # last: it stays up until everything above is done
            return shown

        seconds = update_seconds(analysis)
        if seconds > BUSY_SECONDS:
            self.busy = (f"Working: showing “{analysis.network.name}” ({len(analysis.records) - 1} layers), "
                         f"about {max(1, round(seconds))} s…")
            if self.defer(finish):
                return True
        return finish()

    def _show_now(self, analysis: Analysis, index: int | None, notes: list[str] | None) -> bool:
        """Set network and selection in one batched update; if a watcher fails, put the
        previous state back everywhere, say so in `notice` and return False."""
        previous = (self.network, self.selection, self.notes)
        try:
            with pn.io.hold():
                self.param.update(network=analysis, selection=index, error="", notes=list(notes or []))
        except Exception as exc:   # noqa: BLE001 - the page must stay consistent whatever failed
            log.exception("showing a network failed; restoring the previous one")
            try:
                with pn.io.hold():
                    self.param.update(network=previous[0], selection=previous[1], notes=previous[2])
            except Exception:   # noqa: BLE001 - it was shown before: should not happen
                log.exception("restoring the previous network failed")
            self.notice = (f"Showing the new network failed ({exc.__class__.__name__}: {exc}); the last valid "
                           "network is shown instead.")
            return False
        return True

    def _refuse(self, message: str) -> str:
        self.error = message
        return message

    def load_json(self, text: str) -> str | None:
        """The JSON box/upload: size, depth and number length are checked before parsing."""
        import json
        text = strip_bom(text or "")
        problem = json_problem(text)
        if problem:
            return self._refuse(f"{problem[0].upper()}{problem[1:]}. {UNCHANGED}")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return self._refuse(f"The JSON is not valid: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
                                f"{UNCHANGED}")
        except (ValueError, RecursionError) as exc:   # json_problem should have caught these
            return self._refuse(f"The JSON cannot be used ({exc}). {UNCHANGED}")
        return self.apply_json(data)

    def load_preset(self, name: str) -> str | None:
        """A preset network, nothing selected (the broken one is refused with its lesson)."""
        if name not in PRESETS:
            return self._refuse(f"There is no preset called {name!r}; choose one from the list.")
        return self.apply_json(preset_json(name), select=None)

    def reset(self) -> str | None:
        return self.apply_json(default_network().to_json(), select=None)

    def new_exercise(self) -> str | None:
        """The same structure with fresh random sizes (explorer/exercise.py)."""
        try:
            variant = new_exercise(self.network.network)
        except Exception as exc:   # noqa: BLE001 - a bug there must not stop the page
            log.exception("making an exercise failed")
            return self._refuse(f"No exercise could be made from this network ({exc.__class__.__name__}: {exc}). "
                                f"{UNCHANGED}")
        return self.apply_json(variant.to_json())

    def set_input(self, shape: tuple[Any, ...]) -> str | None:
        data = self.network.network.to_json()
        data["input"] = dict(zip(("channels", "height", "width"), shape))
        return self.apply_json(data)

    def import_text(self, text: str, input_size: str | tuple[int, int, int]) -> str | None:
        """Bring your own model: a torchvision print-out or nn.Sequential text, never executed."""
        from ..importer import parse_input_size
        try:
            size = parse_input_size(input_size) if isinstance(input_size, str) else input_size
            network, notes = _import_with_notes(text or "", size)
        except ArchitectureError as exc:
            return self._refuse(f"{exc}. {UNCHANGED}")
        except Exception as exc:   # noqa: BLE001 - the importer's bug must not stop the page
            log.exception("importing a model failed")
            return self._refuse(f"The model text could not be read ({exc.__class__.__name__}: {exc}). {UNCHANGED}")
        return self.apply_json(network.to_json(), select=None, notes=notes)

    def load_link(self, arch: str, then: Callable[[], None] | None = None) -> bool:
        """The `arch=` of a link; a corrupted one keeps the network and says so in `notice`.
        `then()` runs once the link's network is shown (or refused): e.g. select its `layer=`."""
        def done(shown: bool) -> None:
            if shown:
                self.notice = ""
            if then is not None:
                then()

        try:
            analysis = analyse(decode_arch(arch))
        except ArchitectureError as exc:
            self.notice = f"The network in the link could not be loaded: {exc}. {UNCHANGED}"
            done(False)
            return False
        except Exception as exc:   # noqa: BLE001 - a hostile link must never stop the page
            log.exception("loading the network from the link failed")
            self.notice = (f"The network in the link could not be loaded ({exc.__class__.__name__}: {exc}). "
                           f"{UNCHANGED}")
            done(False)
            return False
        return self.show(analysis, self.selection if self.selection is not None
                         and self.selection < len(analysis.records) else None, then=done)

    # -- structural edits (any depth) ----------------------------------------------------------
    def _edit(self, make: Callable[[], edits.Edit]) -> str | None:
        try:
            edit = make()
        except ArchitectureError as exc:
            return self._refuse(str(exc)[0].upper() + str(exc)[1:] + ".")
        return self.apply_json(edit.data, select=edit.select)

    def insert(self, kind: str, after: str | None = None) -> str | None:
        """Insert a layer kind (e.g. "conv2d") or a palette piece (e.g. "Residual block (basic)")
        after the named node (default: the selection; nothing selected: at the start)."""
        from ..spec import LAYER_TYPES
        after = self.selected_name if after is None else after
        record = self.network.records[self.index_of(after) or 0]
        if kind in LAYER_TYPES:
            node = {"type": kind, **LAYER_TYPES[kind].editor_defaults}
            return self._edit(lambda: edits.insert_after(self.network.network, after, node))
        return self._edit(lambda: edits.insert_after(self.network.network, after,
                                                     piece(kind, record.output_shape, record.name)))

    def remove(self, name: str | None = None) -> str | None:
        """Remove the named node (default: the selection); a block goes with its contents."""
        name = self.selected_name if name is None else name
        if name in (None, "Input"):
            return self._refuse("Select a layer to remove (the input cannot be removed).")
        index = self.index_of(name) or 0
        return self._edit(lambda: edits.remove(self.network.network, name, index))

    def move(self, name: str | None = None, offset: int = 1) -> str | None:
        """Move the named node (default: the selection) `offset` places within its list."""
        name = self.selected_name if name is None else name
        if name in (None, "Input"):
            return self._refuse("Select a layer to move (the input stays first).")
        return self._edit(lambda: edits.move(self.network.network, name, offset))

    def replace(self, name: str, node: dict[str, Any]) -> str | None:
        """Edit one node's fields (the form), at any depth."""
        return self._edit(lambda: edits.replace(self.network.network, name, node))
