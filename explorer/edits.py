"""Structural edits of a network, at any depth: insert, remove, move, replace a node.

Pure functions over the architecture JSON (docs/design.md §2, §7). A node is addressed by
its resolved name, which is unique over the whole tree. Each edit returns the candidate
JSON and the walk-order position of the node to select afterwards; the caller validates the
candidate with `analyse` (a broken merge is refused there, with the core's message).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from .spec import LAYER_TYPES, ArchitectureError, Network

Json = dict[str, Any]

_DEFAULT_NAME = re.compile(
    rf"^({'|'.join(sorted({re.escape(cls.prefix) for cls in LAYER_TYPES.values()}, key=len, reverse=True))}"
    r"|Block|Add|Concat|Multiply)\d*[b-z]?$|^Logits$")


@dataclass(frozen=True)
class Edit:
    """A candidate network and the record index (Input = 0) to select once it is shown."""

    data: Json
    select: int | None


@dataclass(frozen=True)
class _Slot:
    """Where one node sits: the list that holds it and its position there."""

    siblings: list[Json]
    position: int
    parent: Json | None      # the enclosing block/parallel JSON, None at the top level


def _walk(nodes: list[Json], parent: Json | None = None) -> Iterator[tuple[Json, _Slot]]:
    """Every node JSON in walk order (`spec.iter_nodes`): block before contents, merge after branches."""
    for i, node in enumerate(nodes):
        slot = _Slot(nodes, i, parent)
        if node.get("type") == "block":
            yield node, slot
            yield from _walk(node["layers"], node)
        elif node.get("type") == "parallel":
            for branch in node["branches"]:
                yield from _walk(branch, node)
            yield node, slot
        else:
            yield node, slot


def _slots(network: Network, data: Json) -> dict[str, tuple[Json, _Slot]]:
    nodes = list(_walk(data["layers"]))
    return dict(zip(network.names, nodes))


def _find(network: Network, data: Json, name: str) -> tuple[Json, _Slot]:
    found = _slots(network, data).get(name)
    if found is None:
        raise ArchitectureError(f"there is no layer named {name!r} in this network; select a layer in the diagram")
    return found


def _row_of(data: Json, target: Json) -> int | None:
    """Record index (Input = 0) of the node object `target` in walk order."""
    for row, (node, _) in enumerate(_walk(data["layers"]), start=1):
        if node is target:
            return row
    return None


def renumbered(data: Json) -> Json:
    """Drop names that look like defaults (Conv3, ReLU2b, Block1, Add1, Logits) everywhere,
    so that inserting or moving nodes renumbers them; module-path names stay."""
    for node, _ in _walk(data["layers"]):
        if "name" in node and _DEFAULT_NAME.match(str(node["name"])):
            del node["name"]
    return data


def insert_after(network: Network, name: str | None, node: Json) -> Edit:
    """Insert `node` after the named node in the same list (None or "Input": first in the network)."""
    data = network.to_json()
    if name in (None, "Input"):
        data["layers"].insert(0, node)
    else:
        _, slot = _find(network, data, name)
        slot.siblings.insert(slot.position + 1, node)
    renumbered(data)
    return Edit(data, _row_of(data, node))


def remove(network: Network, name: str, selected: int) -> Edit:
    """Remove the named node (a block goes with its contents); the selection stays at `selected`."""
    data = network.to_json()
    _, slot = _find(network, data, name)
    del slot.siblings[slot.position]
    if slot.parent is None and not slot.siblings:
        raise ArchitectureError("a network needs at least one layer; add another layer before removing this one")
    if slot.parent is not None and slot.parent.get("type") == "block" and not slot.siblings:
        parent = slot.parent.get("name", "this block")
        raise ArchitectureError(f"{name} is the only layer of the block {parent}; a block may not be empty, "
                                f"so select the block {parent} and remove it instead")
    renumbered(data)
    rows = sum(1 for _ in _walk(data["layers"])) + 1
    return Edit(data, min(selected, rows - 1))


def move(network: Network, name: str, offset: int) -> Edit:
    """Swap the named node with its neighbour `offset` places away in the same list."""
    data = network.to_json()
    node, slot = _find(network, data, name)
    other = slot.position + offset
    if not 0 <= other < len(slot.siblings):
        where = "first" if offset < 0 else "last"
        raise ArchitectureError(f"{name} is already the {where} node of its "
                                f"{'network' if slot.parent is None else 'block or branch'}; it cannot move further")
    slot.siblings[slot.position], slot.siblings[other] = slot.siblings[other], slot.siblings[slot.position]
    renumbered(data)
    return Edit(data, _row_of(data, node))


def replace(network: Network, name: str, node: Json) -> Edit:
    """Put `node` (a leaf's edited fields) where the named node is; names are left as given."""
    data = network.to_json()
    _, slot = _find(network, data, name)
    slot.siblings[slot.position] = node
    return Edit(data, _row_of(data, node))
