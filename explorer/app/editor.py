"""The architecture editor (needs Python: desktop server and the live Pyodide page).

It WATCHES the page's `ExplorerState` (network, selection, error, notes) and changes it only
through the state's public actions; it keeps no selection or network of its own. The form
edits any leaf at any depth; the palette inserts graph pieces (explorer/palette.py) after the
selected node; remove and move work on layers and whole blocks (docs/design.md §7).
"""
from __future__ import annotations

import re
from dataclasses import MISSING, fields
from typing import Any

import panel as pn
import param

from ..palette import PIECES
from ..presets import PRESETS as PRESET_NETWORKS
from ..spec import LAYER_TYPES, MERGES, Block, LayerSpec, Network, Parallel
from ..text import MAX_JSON_CHARS, MAX_LAYER_NAME, MAX_MODEL_TEXT, html
from .lazy import folded_card
from .rows import wrap_row
from .theme import NUMBER_INPUT_CSS, WARNING_BUTTON_CSS
from .state import ExplorerState

PRESETS = {"CIFAR-10 (3×32×32)": (3, 32, 32), "MNIST (1×28×28)": (1, 28, 28),
           "ImageNet (3×224×224)": (3, 224, 224)}

NEW_LAYER = {kind: dict(cls.editor_defaults) for kind, cls in LAYER_TYPES.items()}


def size_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return str(value[0]) if value[0] == value[1] else f"{value[0]}, {value[1]}"
    return "" if value is None else str(value)


def parse_size(text: str) -> Any:
    """"3" → 3, "3, 5" / "3x5" → [3, 5]; anything else is passed on for the core to reject."""
    parts = [p for p in re.split(r"[\s,x×]+", text.strip()) if p]
    if not parts:
        return None
    try:
        nums = [int(p) for p in parts]
    except ValueError:
        return text
    return nums[0] if len(nums) == 1 else nums


class Editor:
    """Form for the selected node, structure buttons, palette, presets, import and JSON."""

    def __init__(self, state: ExplorerState) -> None:
        self.state = state
        self._shown: Network | None = None       # the network the JSON box and form were built for
        self._widgets: dict[str, Any] = {}       # the form's widgets, by field
        self._form_for: str | None = None        # name of the node the form edits
        self.error = pn.pane.HTML("", sizing_mode="stretch_width", name="cnnx-editor-error")
        self.notes = pn.pane.HTML("", sizing_mode="stretch_width", name="cnnx-import-notes")
        self.form = pn.Column(sizing_mode="stretch_width")
        self.preset = pn.widgets.Select(label="Input preset", options=["Custom", *PRESETS], value="CIFAR-10 (3×32×32)")
        self.preset.param.watch(self._on_preset, "value")
        self.new_type = pn.widgets.Select(label="New layer type", options=list(LAYER_TYPES), value="conv2d")
        self.insert = pn.widgets.Button(label="Insert after selected", color="primary")
        self.piece = pn.widgets.Select(label="Graph piece", options=list(PIECES), value=next(iter(PIECES)))
        self.insert_piece = pn.widgets.Button(label="Insert piece after selected", color="primary")
        self.remove = pn.widgets.Button(label="Remove selected")
        self.up = pn.widgets.Button(label="Move up")
        self.down = pn.widgets.Button(label="Move down")
        self.reset = pn.widgets.Button(label="Reset to default", color="warning", stylesheets=[WARNING_BUTTON_CSS])
        self.network_preset = pn.widgets.Select(label="Preset network", options=["—", *PRESET_NETWORKS], value="—")
        self.network_preset.param.watch(self._on_network_preset, "value")
        self.exercise = pn.widgets.Button(label="New exercise (random sizes)")
        self.exercise.on_click(lambda _e: state.new_exercise())
        self.insert.on_click(lambda _e: state.insert(self.new_type.value))
        self.insert_piece.on_click(lambda _e: state.insert(self.piece.value))
        self.remove.on_click(lambda _e: state.remove())
        self.up.on_click(lambda _e: state.move(offset=-1))
        self.down.on_click(lambda _e: state.move(offset=+1))
        self.reset.on_click(lambda _e: state.reset())
        # Panel's default max_length (5,000) would cut an 80-layer JSON: accept what the parser accepts.
        self.json = pn.widgets.TextAreaInput(label="Architecture JSON", height=220, sizing_mode="stretch_width",
                                             max_length=MAX_JSON_CHARS)
        self.model_text = pn.widgets.TextAreaInput(
            label="What print(model) shows, or an nn.Sequential(...) expression", height=200,
            sizing_mode="stretch_width", max_length=MAX_MODEL_TEXT,
            placeholder="ResNet(\n  (conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), ...)\n  ...")
        self.model_input = pn.widgets.TextInput(label="Input size (C×H×W)", value="3x32x32", width=160)
        self.load_model = pn.widgets.Button(label="Load this model")
        self.load_model.on_click(lambda _e: state.import_text(self.model_text.value or "",
                                                              self.model_input.value or ""))
        self.apply_json = pn.widgets.Button(label="Apply JSON")
        self.apply_json.on_click(lambda _e: state.load_json(self.json.value))
        self.upload = pn.widgets.FileInput(accept=".json,application/json", label="Upload JSON")
        self.upload.param.watch(self._on_upload, "value")
        structure = wrap_row(self.new_type, self.insert, self.remove, self.up, self.down, self.reset)
        palette = wrap_row(self.piece, self.insert_piece)
        networks = wrap_row(self.network_preset, self.preset, self.exercise)
        self.layout = pn.Column(
            pn.pane.HTML("<h2>Edit the network</h2><p>Select a layer (diagram or buttons), change its settings "
                         "and everything recomputes. Layers inside blocks are edited the same way; the buttons "
                         "insert, remove and move layers and whole blocks. Invalid settings are explained here "
                         "and the last valid network stays on screen. In a number field, the arrow keys step the value "
                         "(Page Up/Down: ten steps).</p>", sizing_mode="stretch_width"),
            self.error, self.form, structure, palette, networks,
            folded_card("Bring your own PyTorch model",
                        lambda: [self.model_text, wrap_row(self.model_input, self.load_model), self.notes],
                        sizing_mode="stretch_width"),
            folded_card("Architecture as JSON", lambda: [self.json, wrap_row(self.apply_json, self.upload)],
                        sizing_mode="stretch_width"),
            sizing_mode="stretch_width", name="cnnx-part-editor", css_classes=["cnnx-part-editor"])
        state.param.watch(self._on_state, ["network", "selection"])
        state.param.watch(lambda _e: self.show_error(state.error), "error")
        state.param.watch(lambda _e: self._show_notes(), "notes")
        self._on_state()

    # -- following the state --------------------------------------------------------------------
    @property
    def index(self) -> int | None:
        """The selected record (the state's; the editor keeps none of its own)."""
        return self.state.selection

    @property
    def network(self) -> Network:
        return self.state.network.network

    def _on_state(self, *_events: param.parameterized.Event) -> None:
        network = self.network
        if network != self._shown:
            self._shown = network
            self.json.value = network.dumps()
            preset = next((k for k, v in PRESETS.items() if v == network.input.shape), "Custom")
            if self.preset.value != preset:
                self.preset.param.update(value=preset)
        if not self._form_shows_selection():
            self._build_form()

    def widget(self, field: str) -> Any:
        """The form's widget for `field` of the selected node (KeyError when it has none)."""
        return self._widgets[field]

    def show_error(self, message: str | None) -> None:
        self.error.object = ("" if not message else
                             f'<div role="alert" style="border:1px solid #cf222e;background:#ffebe9;'
                             f'padding:8px 12px;border-radius:6px">⚠ {_escape(message)}</div>')

    def _show_notes(self) -> None:
        notes = self.state.notes
        self.notes.object = ("" if not notes else
                             '<div role="status"><p><strong>What the import assumed:</strong></p><ul>'
                             + "".join(f"<li>{_escape(n)}</li>" for n in notes) + "</ul></div>")

    # -- form -------------------------------------------------------------------------------
    def _form_shows_selection(self) -> bool:
        """True when the form's widgets already hold the selected node's current values (an
        edit made in the form): rebuilding would cost a full re-layout in the browser."""
        i = self.index
        if i is None or not self._widgets or not self.form.objects:
            return False
        record = self.state.network.records[i]
        if record.name != self._form_for and not (i == 0 and self._form_for == "Input"):
            return False
        if i == 0:
            return tuple(w.value for w in self._widgets.values()) == self.network.input.shape
        if isinstance(record.layer, Parallel):
            return self._widgets.get("merge") is not None and self._widgets["merge"].value == record.layer.merge
        if not isinstance(record.layer, LayerSpec) or self._widgets["name"].value != record.name:
            return False
        return all(_shown(self._widgets[k]) == v for k, v in _form_values(record.layer).items())

    def _build_form(self) -> None:
        i = self.index
        self._widgets, self._form_for = {}, None
        if i is None:
            self.form.objects = [pn.pane.HTML("<p>Select a layer to edit its settings.</p>")]
            return
        record = self.state.network.records[i]
        if i == 0:
            inp = self.network.input
            self._widgets = {k: self._int_widget(k, v) for k, v in
                             (("channels", inp.channels), ("height", inp.height), ("width", inp.width))}
            for w in self._widgets.values():
                w.param.watch(lambda _e: self._submit_input(), "value")
            self._form_for = "Input"
            self.form.objects = [pn.pane.HTML("<h3>Input</h3>"), wrap_row(*self._widgets.values())]
            return
        layer = record.layer
        if isinstance(layer, Parallel):
            merge = pn.widgets.Select(label="merge", options=list(MERGES), value=layer.merge, width=140)
            self._widgets, self._form_for = {"merge": merge}, record.name
            name = record.name
            merge.param.watch(lambda e: self._submit_merge(name, e.new), "value")
            self.form.objects = [pn.pane.HTML(_container_help(record.name, layer)), wrap_row(merge)]
            return
        if isinstance(layer, Block):
            self.form.objects = [pn.pane.HTML(_container_help(record.name, layer))]
            return
        assert layer is not None
        widgets: dict[str, Any] = {"name": pn.widgets.TextInput(label="name", value=record.name, width=160,
                                                                max_length=MAX_LAYER_NAME)}
        kinds = {f.name: f.metadata.get("kind") for f in fields(layer)}
        for key, value in _form_values(layer).items():
            if kinds[key] == "bool":
                # a one-option group: Bokeh's lone Checkbox has no <label>, so no accessible name
                widgets[key] = pn.widgets.CheckBoxGroup(label=key, options=[key], value=[key] if value else [])
            elif kinds[key] == "number":
                widgets[key] = pn.widgets.FloatInput(label=key, value=value, width=120, stylesheets=[NUMBER_INPUT_CSS])
            elif kinds[key] == "count":
                widgets[key] = self._int_widget(key, value)
            else:
                placeholder = "same as kernel" if key == "stride" else ("inferred" if not value else "")
                widgets[key] = pn.widgets.TextInput(label=key, value=value, width=120, placeholder=placeholder)
        self._widgets, self._form_for = widgets, record.name
        name, kind_ = record.name, layer.type
        for w in widgets.values():
            w.param.watch(lambda _e: self._submit_layer(name, kind_), "value")
        where = " › ".join(record.path)
        self.form.objects = [pn.pane.HTML(f"<h3>{_escape(record.name)} <small>({layer.type})</small></h3>"
                                          + (f"<p class='cnnx-hint'>inside {_escape(where)}</p>" if where else "")),
                             wrap_row(*widgets.values())]

    @staticmethod
    def _int_widget(name: str, value: Any) -> pn.widgets.IntInput:
        placeholder = "inferred" if name in ("in_channels", "in_features", "num_features") else ""
        return pn.widgets.IntInput(label=name, value=value, width=120, placeholder=placeholder,
                                   stylesheets=[NUMBER_INPUT_CSS])

    def _raw(self, kind: str, resolved: str, layer: Any) -> dict[str, Any]:
        """The node JSON the form's widgets describe (the name kept when it was given or changed)."""
        raw: dict[str, Any] = {"type": kind}
        for key, w in self._widgets.items():
            value = w.value
            if key == "name":
                if value.strip() and value.strip() != resolved:
                    raw["name"] = value.strip()
                elif getattr(layer, "name", None):
                    raw["name"] = layer.name
                continue
            if isinstance(w, pn.widgets.TextInput):
                value = parse_size(value)
            elif isinstance(w, pn.widgets.CheckBoxGroup):
                value = key in value
            if value is None:
                continue
            raw[key] = value
        return raw

    # -- edits (all through the state's actions) ------------------------------------------------
    def _submit_layer(self, name: str, kind: str) -> None:
        record = self.state.network.records[self.state.index_of(name) or 0]
        if record.name != name:
            return
        self.state.replace(name, self._raw(kind, name, record.layer))

    def _submit_merge(self, name: str, merge: str) -> None:
        """Change how a parallel joins its branches (add, concat, multiply)."""
        record = self.state.network.records[self.state.index_of(name) or 0]
        if isinstance(record.layer, Parallel) and record.layer.merge != merge:
            self.state.replace(name, {**record.layer.to_json(), "merge": merge})

    def _submit_input(self) -> None:
        self.state.set_input(tuple(w.value for w in self._widgets.values()))

    def _on_preset(self, event: Any) -> None:
        if event.new in PRESETS and PRESETS[event.new] != self.network.input.shape:
            self.state.set_input(PRESETS[event.new])

    def _on_network_preset(self, event: Any) -> None:
        if event.new in PRESET_NETWORKS:
            self.state.load_preset(event.new)

    def _on_upload(self, event: Any) -> None:
        if not event.new:
            return
        try:
            text = event.new.decode("utf-8")
        except UnicodeDecodeError:
            self.state.error = "The uploaded file is not UTF-8 text; upload an architecture .json file."
            return
        self.json.value = text
        self.state.load_json(text)


def _form_values(layer: LayerSpec) -> dict[str, Any]:
    """The value each form widget shows for `layer`'s fields (the name aside)."""
    raw = layer.to_json()
    values: dict[str, Any] = {}
    for f in fields(layer):
        if f.name == "name":
            continue
        kind = f.metadata.get("kind")
        value = raw.get(f.name, None if f.default is MISSING else f.default)
        values[f.name] = (bool(value) if kind == "bool" else float(value) if kind == "number" else
                          value if kind == "count" else size_text(value))
    return values


def _shown(widget: Any) -> Any:
    """What a form widget shows, in `_form_values`' terms (a one-option group stands for a bool)."""
    if isinstance(widget, pn.widgets.CheckBoxGroup):
        return bool(widget.value)
    return widget.value


def _container_help(name: str, node: Block | Parallel) -> str:
    """What the form says for a block or a merge: its contents are edited one layer at a time."""
    if isinstance(node, Block):
        return (f"<h3>{_escape(name)} <small>(block, {_escape(node.module)})</small></h3><p>A block of "
                f"{len(node.layers)} node{'s' if len(node.layers) != 1 else ''}. Select a layer inside it to edit "
                "its settings; Remove and Move act on the whole block.</p>")
    return (f"<h3>{_escape(name)} <small>({node.merge} merge)</small></h3><p>Merges {len(node.branches)} branches "
            f"by {node.merge}. Change the merge below, or select a layer in a branch to edit it; if the branch "
            "outputs stop fitting together, the merge's message says how to fix them.</p>")


def _escape(text: str) -> str:
    return html(text)
