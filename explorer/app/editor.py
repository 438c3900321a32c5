"""The architecture editor (needs Python: desktop server and the live Pyodide page).

Widgets produce candidate JSON; `on_apply(json) -> error | None` (the page) validates it
with the core and either shows the new network or keeps the last valid one.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import MISSING, fields
from typing import Any, Callable

import panel as pn

from ..exercise import new_exercise
from ..importer import import_text, parse_input_size
from ..presets import PRESETS as PRESET_NETWORKS
from ..spec import LAYER_TYPES, ArchitectureError, Network, default_network, resolve_names
from .rows import wrap_row

PRESETS = {"CIFAR-10 (3×32×32)": (3, 32, 32), "MNIST (1×28×28)": (1, 28, 28),
           "ImageNet (3×224×224)": (3, 224, 224)}

NEW_LAYER = {kind: dict(cls.editor_defaults) for kind, cls in LAYER_TYPES.items()}

_DEFAULT_NAME = re.compile(
    rf"^({'|'.join(sorted({re.escape(cls.prefix) for cls in LAYER_TYPES.values()}, key=len, reverse=True))})\d*$"
    r"|^Logits$")

# Graph networks (docs/design.md) are edited as JSON until the page's graph views exist.
GRAPH_NOTE = ("This network has blocks or branches; edit it in the JSON box (the form and the buttons edit "
              "networks that are a plain chain of layers).")

Apply = Callable[[dict[str, Any]], "str | None"]


def renumbered(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop names that look like defaults so inserting/moving layers renumbers them."""
    return [{k: v for k, v in layer.items() if not (k == "name" and _DEFAULT_NAME.match(str(v)))}
            for layer in layers]


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
    """Form for the selected layer, structure buttons, input presets and JSON import/export."""

    def __init__(self, on_apply: Apply) -> None:
        self.on_apply = on_apply
        self.network: Network = default_network()
        self.index: int | None = None          # selected layer (0 = Input)
        self._form_edit = False                # the change being applied came from the form
        self.error = pn.pane.HTML("", sizing_mode="stretch_width", name="cnnx-editor-error")
        self.form = pn.Column(sizing_mode="stretch_width")
        self.preset = pn.widgets.Select(label="Input preset", options=["Custom", *PRESETS], value="CIFAR-10 (3×32×32)")
        self.preset.param.watch(self._on_preset, "value")
        self.new_type = pn.widgets.Select(label="New layer type", options=list(LAYER_TYPES), value="conv2d")
        self.insert = pn.widgets.Button(label="Insert after selected", color="primary")
        self.remove = pn.widgets.Button(label="Remove selected")
        self.up = pn.widgets.Button(label="Move up")
        self.down = pn.widgets.Button(label="Move down")
        self.reset = pn.widgets.Button(label="Reset to default", color="warning")
        self.network_preset = pn.widgets.Select(label="Preset network", options=["—", *PRESET_NETWORKS], value="—")
        self.network_preset.param.watch(self._on_network_preset, "value")
        self.exercise = pn.widgets.Button(label="New exercise (random sizes)")
        self.exercise.on_click(lambda _e: self._new_exercise())
        for button, action in ((self.insert, self._insert), (self.remove, self._remove), (self.up, self._up),
                               (self.down, self._down), (self.reset, self._reset)):
            button.on_click(lambda _e, act=action: act())
        self.json = pn.widgets.TextAreaInput(label="Architecture JSON", height=220, sizing_mode="stretch_width")
        self.model_text = pn.widgets.TextAreaInput(
            label="What print(model) shows, or an nn.Sequential(...) expression", height=200,
            sizing_mode="stretch_width",
            placeholder="Sequential(\n  (0): Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))\n  ...")
        self.model_input = pn.widgets.TextInput(label="Input size (C×H×W)", value="3x32x32", width=160)
        self.load_model = pn.widgets.Button(label="Load this model")
        self.load_model.on_click(lambda _e: self._import_model())
        self.apply_json = pn.widgets.Button(label="Apply JSON")
        self.apply_json.on_click(lambda _e: self._submit_text(self.json.value))
        self.upload = pn.widgets.FileInput(accept=".json,application/json", label="Upload JSON")
        self.upload.param.watch(self._on_upload, "value")
        structure = wrap_row(self.new_type, self.insert, self.remove, self.up, self.down, self.reset)
        networks = wrap_row(self.network_preset, self.preset, self.exercise)
        self.layout = pn.Column(
            pn.pane.HTML("<h2>Edit the network</h2><p>Select a layer (diagram or buttons), change its settings "
                         "and everything recomputes. Invalid settings are explained here and the last valid "
                         "network stays on screen.</p>", sizing_mode="stretch_width"),
            self.error, self.form, structure, networks,
            pn.Card(self.model_text, wrap_row(self.model_input, self.load_model),
                    title="Bring your own PyTorch model", collapsed=True, sizing_mode="stretch_width"),
            pn.Card(self.json, pn.Row(self.apply_json, self.upload), title="Architecture as JSON",
                    collapsed=True, sizing_mode="stretch_width"),
            sizing_mode="stretch_width", name="cnnx-part-editor", css_classes=["cnnx-part-editor"])

    # -- state from the page ----------------------------------------------------------------
    def show(self, network: Network, index: int | None) -> None:
        """Called by the page after a valid network was applied or the selection moved."""
        changed = network != self.network or not self.json.value
        if not changed and index == self.index and self.form.objects:
            return
        # An edit made in this form already shows its values: keep the widgets (rebuilding
        # them costs a full re-layout in the browser) unless the layer names moved.
        keep_form = (self._form_edit and index == self.index
                     and resolve_names(network.layers) == resolve_names(self.network.layers))
        self.network, self.index = network, index
        if changed:
            self.json.value = network.dumps()
        shape = network.input.shape
        preset = next((k for k, v in PRESETS.items() if v == shape), "Custom")
        if self.preset.value != preset:
            self.preset.param.update(value=preset)
        if not keep_form:
            self._build_form()

    def show_error(self, message: str | None) -> None:
        self.error.object = ("" if not message else
                             f'<div role="alert" style="border:1px solid #cf222e;background:#ffebe9;'
                             f'padding:8px 12px;border-radius:6px">⚠ {_escape(message)}</div>')

    # -- form -------------------------------------------------------------------------------
    def _build_form(self) -> None:
        i = self.index
        names = resolve_names(self.network.layers)
        if i is None:
            self.form.objects = [pn.pane.HTML("<p>Select a layer to edit its settings.</p>")]
            return
        if i == 0:
            inp = self.network.input
            widgets = [self._int_widget("channels", inp.channels), self._int_widget("height", inp.height),
                       self._int_widget("width", inp.width)]
            for w in widgets:
                w.param.watch(lambda _e: self._submit_input(widgets), "value")
            self.form.objects = [pn.pane.HTML("<h3>Input</h3>"), wrap_row(*widgets)]
            return
        if not self.network.is_flat:
            self.form.objects = [pn.pane.HTML(f"<p>{GRAPH_NOTE}</p>")]
            return
        layer = self.network.layers[i - 1]
        raw = layer.to_json()
        widgets: dict[str, Any] = {"name": pn.widgets.TextInput(label="name", value=names[i - 1], width=140)}
        for f in fields(layer):
            if f.name == "name":
                continue
            kind = f.metadata.get("kind")
            value = raw.get(f.name, None if f.default is MISSING else f.default)
            if kind == "bool":
                widgets[f.name] = pn.widgets.Checkbox(label=f.name, value=bool(value))
            elif kind == "number":
                widgets[f.name] = pn.widgets.FloatInput(label=f.name, value=float(value), width=120)
            elif kind == "count":
                widgets[f.name] = self._int_widget(f.name, value)
            else:
                placeholder = "same as kernel" if f.name == "stride" else ("inferred" if value is None else "")
                widgets[f.name] = pn.widgets.TextInput(label=f.name, value=size_text(value), width=120,
                                                       placeholder=placeholder)
        for w in widgets.values():
            w.param.watch(lambda _e: self._submit_layer(layer.type, widgets), "value")
        self.form.objects = [pn.pane.HTML(f"<h3>{_escape(names[i - 1])} <small>({layer.type})</small></h3>"),
                             wrap_row(*widgets.values())]

    @staticmethod
    def _int_widget(name: str, value: Any) -> pn.widgets.IntInput:
        placeholder = "inferred" if name in ("in_channels", "in_features", "num_features") else ""
        return pn.widgets.IntInput(label=name, value=value, width=120, placeholder=placeholder)

    # -- edits --------------------------------------------------------------------------------
    def _layers(self) -> list[dict[str, Any]]:
        return [layer.to_json() for layer in self.network.layers]

    def _submit(self, layers: list[dict[str, Any]], input_shape: tuple[Any, ...] | None = None) -> str | None:
        data = self.network.to_json()
        data["layers"] = layers
        if input_shape is not None:
            data["input"] = dict(zip(("channels", "height", "width"), input_shape))
        return self.on_apply(data)

    def _submit_layer(self, kind: str, widgets: dict[str, Any]) -> None:
        assert self.index is not None
        raw: dict[str, Any] = {"type": kind}
        names = resolve_names(self.network.layers)
        for key, w in widgets.items():
            value = w.value
            if key == "name":
                if value.strip() and value.strip() != names[self.index - 1]:
                    raw["name"] = value.strip()
                elif self.network.layers[self.index - 1].name:
                    raw["name"] = self.network.layers[self.index - 1].name
                continue
            if isinstance(w, pn.widgets.TextInput):
                value = parse_size(value)
            if value is None:
                continue
            raw[key] = value
        layers = self._layers()
        layers[self.index - 1] = raw
        self._submit_from_form(layers)

    def _submit_input(self, widgets: list[Any]) -> None:
        self._submit_from_form(self._layers(), tuple(w.value for w in widgets))

    def _submit_from_form(self, layers: list[dict[str, Any]], input_shape: tuple[Any, ...] | None = None) -> None:
        self._form_edit = True
        try:
            self._submit(layers, input_shape)
        finally:
            self._form_edit = False

    def _on_preset(self, event: Any) -> None:
        if event.new in PRESETS and PRESETS[event.new] != self.network.input.shape:
            self._submit(self._layers(), PRESETS[event.new])

    def _graph_guard(self) -> bool:
        """True (and says why) when the network has blocks or branches: the buttons edit flat ones."""
        if self.network.is_flat:
            return False
        self.show_error(GRAPH_NOTE)
        return True

    def _insert(self) -> None:
        if self._graph_guard():
            return
        at = self.index or 0
        layers = self._layers()
        layers.insert(at, {"type": self.new_type.value, **NEW_LAYER[self.new_type.value]})
        self._move_selection(at + 1, renumbered(layers))

    def _remove(self) -> None:
        if self._graph_guard():
            return
        if not self.index:
            self.show_error("Select a layer to remove (the input cannot be removed).")
            return
        layers = self._layers()
        if len(layers) == 1:
            self.show_error("A network needs at least one layer.")
            return
        del layers[self.index - 1]
        self._move_selection(min(self.index, len(layers)), renumbered(layers))

    def _up(self) -> None:
        self._swap(-1)

    def _down(self) -> None:
        self._swap(+1)

    def _swap(self, step: int) -> None:
        if self._graph_guard():
            return
        if not self.index:
            return
        a, b = self.index - 1, self.index - 1 + step
        layers = self._layers()
        if not 0 <= b < len(layers):
            return
        layers[a], layers[b] = layers[b], layers[a]
        self._move_selection(b + 1, renumbered(layers))

    def _move_selection(self, index: int, layers: list[dict[str, Any]]) -> None:
        previous = self.index
        self.index = index
        if self._submit(layers) is not None:
            self.index = previous

    def _on_network_preset(self, event: Any) -> None:
        if event.new in PRESET_NETWORKS:
            self._apply_new_network(copy.deepcopy(PRESET_NETWORKS[event.new]))

    def _apply_new_network(self, data: dict[str, Any]) -> None:
        """Show a whole new network with nothing selected; on error keep the selection too."""
        previous, self.index = self.index, None
        if self.on_apply(data) is not None:
            self.index = previous

    def _new_exercise(self) -> None:
        self.on_apply(new_exercise(self.network).to_json())

    def _reset(self) -> None:
        self.on_apply(default_network().to_json())

    def _import_model(self) -> None:
        """Parse pasted PyTorch text (never executed); errors keep the current network."""
        try:
            network = import_text(self.model_text.value or "", parse_input_size(self.model_input.value or ""),
                                  name="Imported model")
        except ArchitectureError as exc:
            self.show_error(f"{exc}. The network on screen is unchanged.")
            return
        self._apply_new_network(network.to_json())

    def _submit_text(self, text: str) -> None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            self.show_error(f"The JSON is not valid: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
                            "The network on screen is unchanged.")
            return
        self.on_apply(data)

    def _on_upload(self, event: Any) -> None:
        if not event.new:
            return
        try:
            text = event.new.decode("utf-8")
        except UnicodeDecodeError:
            self.show_error("The uploaded file is not UTF-8 text; upload an architecture .json file.")
            return
        self.json.value = text
        self._submit_text(text)


def _escape(text: str) -> str:
    from html import escape
    return escape(text)
