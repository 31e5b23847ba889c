"""Layered layout of one pool with lanes, for the diagram builder.

Sugiyama-style, with the lanes as horizontal bands:

1. cycles broken by a depth-first search along the flows in the order the spec declares them;
   a step that only leads back into a loop (a correction) is put after the earliest step that
   sends work to it, not at the end;
2. layers (columns) by longest path, left to right;
3. rows inside each lane: the main line (the happy branch 正确 / 通过 of a gateway, else the
   one with the longest way still to go) on the top row, branches below, each reminder right
   below its task; then crossing minimisation by greedy swaps (a swap or move is kept when it
   lowers the crossings of the straight lines between the steps, weighed against bends of the
   main line);
4. orthogonal routing of every flow by A* over a grid of channels between the columns and
   rows: a flow never passes through a shape or an external label other than its own ends,
   bends and shared tracks cost, crossings cost;
5. labels of flows placed along their first segments where they overlap no shape, no other
   label, and as few flows as possible.

No library fits this: grandalf (Sugiyama, pure Python) knows neither lanes (a layer split into
fixed bands) nor obstacle-avoiding orthogonal routes, networkx has no layered layout; this
module is what the pictures need and nothing more.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

TASK_WIDTH = 150
GAP_X = 90  # between columns: room for vertical tracks
GAP_Y = 60  # between rows of a lane: room for horizontal tracks
LANE_PAD_TOP = 30
LANE_PAD_BOTTOM = 50  # the band where loops run back
TRACKS = 4  # parallel tracks per channel
BEND = 30
REUSE = 400
CROSS = 60
HAPPY = {"正确", "通过", "及格", "合格", "同意"}  # branch names of the way things should go
FONT = 12  # bpmn-js: 12px inside tasks, 11px for external labels
EXTERNAL_FONT = 11


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def overlaps(self, other: Box, margin: float = 0) -> bool:
        return (
            self.x - margin < other.right
            and other.x < self.right + margin
            and self.y - margin < other.bottom
            and other.y < self.bottom + margin
        )


def text_width(text: str, size: float) -> float:
    # the Chinese font (wqy-zenhei) runs a little wider than its size
    return sum(size * 1.08 if ord(ch) > 0x2E7F else size * 0.6 for ch in text)


def text_lines(text: str, width: float, size: float) -> int:
    """Lines the text takes when wrapped at `width` (character by character, like diagram-js
    does for Chinese without spaces), rounded up for safety."""
    lines, line = 1, 0.0
    for ch in text:
        w = text_width(ch, size)
        if line + w > width:
            lines, line = lines + 1, w
        else:
            line += w
    return lines


def external_label(text: str) -> tuple[float, float]:
    """Size of an external label (events, gateways, flows): at most about 8 characters a line."""
    width = min(text_width(text, EXTERNAL_FONT) + 8, 100)
    lines = text_lines(text, width - 8, EXTERNAL_FONT)
    return width, lines * EXTERNAL_FONT * 1.2 + 4


def shape_size(kind: str, name: str) -> tuple[float, float]:
    if kind == "event":
        return 36, 36
    if kind == "gateway":
        return 50, 50
    lines = text_lines(name, TASK_WIDTH - 16, FONT)
    # centred text clears the marker icon in the task's top left corner
    return TASK_WIDTH, max(80, math.ceil((lines * FONT * 1.2 + 56) / 10) * 10)


@dataclass
class LNode:
    id: str
    lane: str
    kind: str
    name: str
    attached_to: str | None = None
    beside: str | None = None  # an end drawn in the gap right of the one step before it
    w: float = 0
    h: float = 0
    col: int = 0
    row: int = 0
    x: float = 0
    y: float = 0
    label: Box | None = None

    @property
    def satellite(self) -> bool:
        return bool(self.attached_to or self.beside)

    @property
    def box(self) -> Box:
        return Box(self.x, self.y, self.w, self.h)


@dataclass
class LFlow:
    id: str
    source: str
    target: str
    name: str | None
    points: list[tuple[float, float]] = field(default_factory=list)
    label: Box | None = None


@dataclass
class Result:
    lane_y: dict[str, float]
    lane_h: dict[str, float]
    width: float
    height: float


class Layout:
    def __init__(self, lanes: list[str], nodes: list[LNode], flows: list[LFlow], left: float):
        self.lanes = lanes
        self.nodes = {n.id: n for n in nodes}
        self.flows = flows
        self.left = left
        for n in nodes:
            n.w, n.h = shape_size(n.kind, n.name)

    # 1-2. cycles and columns ---------------------------------------------------------------

    def _graph(self) -> None:
        self.succ: dict[str, list[tuple[str, int]]] = {n: [] for n in self.nodes}
        self.boundaries: dict[str, list[str]] = {n: [] for n in self.nodes}
        for n in self.nodes.values():
            if n.attached_to:
                self.boundaries[n.attached_to].append(n.id)
        later: dict[str, list[tuple[str, int]]] = {n: [] for n in self.nodes}
        for f in self.flows:
            source = self.nodes[f.source]
            if source.attached_to:  # a boundary event's flow starts below its host
                later[source.attached_to].append((f.target, 0))
            else:
                self.succ[f.source].append((f.target, 1))
        for n in self.nodes:
            self.succ[n] += later[n]
        self.roots = [n.id for n in self.nodes.values() if n.kind == "event" and self._is_root(n)]
        # the end of a path off a boundary event (提醒已发出) sits beside the step before it
        reached_from_boundary = {f.target for f in self.flows if self.nodes[f.source].attached_to}
        for n in self.nodes.values():
            incoming = [f for f in self.flows if f.target == n.id]
            if (
                n.kind == "event"
                and not self.succ[n.id]
                and len(incoming) == 1
                and incoming[0].source in reached_from_boundary
                and self.nodes[incoming[0].source].lane == n.lane
            ):
                n.beside = incoming[0].source

    def _is_root(self, node: LNode) -> bool:
        return not node.attached_to and not any(f.target == node.id for f in self.flows)

    def _columns(self) -> None:
        back: set[tuple[str, str]] = set()
        state: dict[str, int] = {}
        order: list[str] = []

        def visit(node_id: str) -> None:
            state[node_id] = 1
            for target, _ in self.succ[node_id]:
                if state.get(target) == 1:
                    back.add((node_id, target))
                elif target not in state:
                    visit(target)
            state[node_id] = 2
            order.append(node_id)

        for root in self.roots:
            if root not in state:
                visit(root)
        for node_id, node in self.nodes.items():
            if node_id not in state and not node.attached_to:
                visit(node_id)
        topo = list(reversed(order))
        self.corrections: set[str] = set()
        preds: dict[str, list[tuple[str, int]]] = {n: [] for n in self.nodes}
        for s in topo:
            for t, step in self.succ[s]:
                if (s, t) not in back:
                    preds[t].append((s, step))
        col = {n: 0 for n in self.nodes}
        for n in topo:
            for p, step in preds[n]:
                col[n] = max(col[n], col[p] + step)
        # A correction step (every flow out of it goes back) sits after the first step that
        # sends work to it; the later senders loop back to it.
        for n in topo:
            outs = self.succ[n]
            if outs and all((n, t) in back for t, _ in outs) and len(preds[n]) > 1:
                first = min(preds[n], key=lambda p: col[p[0]])
                for p, _ in preds[n]:
                    if p != first[0]:
                        back.add((p, n))
                col[n] = col[first[0]] + first[1]
                preds[n] = [first]
                self.corrections.add(n)
        self.back = back
        self.preds = preds
        self.topo = topo
        used = sorted({col[n] for n in col if not self.nodes[n].satellite})
        renumber = {c: i for i, c in enumerate(used)}
        for n, node in self.nodes.items():
            if not node.satellite:
                node.col = renumber[col[n]]
        self.columns = len(used)

    # 3. rows and crossing minimisation ---------------------------------------------------

    def _rows(self) -> None:
        self.names = {(f.source, f.target): f.name for f in self.flows}
        self.depth: dict[str, int] = {}
        for n in reversed(self.topo):
            self.depth[n] = max(
                [
                    self.depth.get(t, 0) + 1
                    for t, step in self.succ[n]
                    if step == 1 and (n, t) not in self.back
                ]
                or [0]
            )
        placed: set[str] = set()
        taken: dict[tuple[str, int, int], str] = {}
        order: list[str] = []
        seen: set[str] = set()
        # main line first: depth first along the first flows, branches after, reminders last
        stack = list(reversed(self.roots))
        deferred: list[str] = []
        self.main_edges: set[tuple[str, str]] = set()
        while stack or deferred:
            if not stack:
                stack.append(deferred.pop(0))
            n = stack.pop()
            if n in seen:
                continue
            seen.add(n)
            order.append(n)
            main = [t for t, step in self.succ[n] if step == 1 and (n, t) not in self.back]
            # the main line goes on along the happy branch (正确, 通过), else to the successor
            # with the longest way still to go; a correction is a branch
            main.sort(
                key=lambda t: (
                    t in self.corrections,
                    self.names.get((n, t)) not in HAPPY,
                    -self.depth[t],
                )
            )
            self.main_edges |= {(n, t) for t in main[:1]}
            stack += list(reversed(main[:1]))
            deferred = main[1:] + deferred
            deferred += [t for t, step in self.succ[n] if step == 0]
        order += [n for n in self.topo if n not in seen and not self.nodes[n].satellite]
        for n in order:
            node = self.nodes[n]
            if node.satellite:
                continue
            desired = 0
            for p, step in self.preds[n]:
                pred = self.nodes[p]
                if p in placed and pred.lane == node.lane:
                    desired = pred.row + (1 if step == 0 else 0)
                    break
            row = desired
            while (node.lane, node.col, row) in taken:
                row += 1
            node.row = row
            taken[(node.lane, node.col, row)] = n
            placed.add(n)
        self._minimise_crossings()
        # drop empty rows
        for lane in self.lanes:
            rows = sorted({n.row for n in self._in_lane(lane)})
            renumber = {r: i for i, r in enumerate(rows)}
            for n in self._in_lane(lane):
                n.row = renumber[n.row]

    def _in_lane(self, lane: str) -> list[LNode]:
        return [n for n in self.nodes.values() if n.lane == lane and not n.satellite]

    def _edges(self) -> list[tuple[str, str]]:
        edges = []
        for f in self.flows:
            s = self.nodes[f.source]
            if not self.nodes[f.target].beside:
                edges.append((s.attached_to or f.source, f.target))
        return edges

    def _point(self, n: str) -> tuple[float, float]:
        node = self.nodes[n]
        return node.col, self.lanes.index(node.lane) * 100 + node.row

    def _cost(self, touched: set[str], edges: list[tuple[str, str]]) -> float:
        mine = [e for e in edges if e[0] in touched or e[1] in touched]
        cost = 0.0
        for a in mine:
            pa, pb = self._point(a[0]), self._point(a[1])
            if a[0] == a[1]:
                continue
            for b in edges:
                if b is a or a[0] in b or a[1] in b:
                    continue
                if _crosses(pa, pb, self._point(b[0]), self._point(b[1])):
                    cost += 10
            if self.nodes[a[0]].lane == self.nodes[a[1]].lane and pa[1] != pb[1]:
                cost += 100 if a in self.main_edges else 1
            if (
                a in self.below
                and pb[1] <= pa[1]
                and self.nodes[a[0]].lane == self.nodes[a[1]].lane
            ):
                cost += 20  # a reminder hangs below the task it reminds of
            elif a in self.below and self.nodes[a[0]].lane == self.nodes[a[1]].lane:
                cost += (pb[1] - pa[1] - 1) * 5  # right below it
            elif a in self.below and pb[1] % 100 == 0:
                cost += 3  # a reminder for another lane keeps off that lane's main row
        cost += sum(self.nodes[n].row * 0.5 for n in touched)
        return cost

    def _minimise_crossings(self) -> None:
        edges = self._edges()
        self.below = {
            (self.nodes[f.source].attached_to, f.target)
            for f in self.flows
            if self.nodes[f.source].attached_to
        }
        for _ in range(3):
            improved = False
            for lane in self.lanes:
                members = self._in_lane(lane)
                rows = max((n.row for n in members), default=0) + 2
                for node in members:
                    cell = {(n.col, n.row): n for n in members}
                    for row in range(rows):
                        if row == node.row:
                            continue
                        other = cell.get((node.col, row))
                        touched = {node.id} | ({other.id} if other else set())
                        before = self._cost(touched, edges)
                        old = node.row
                        node.row = row
                        if other:
                            other.row = old
                        if self._cost(touched, edges) < before - 1e-9:
                            improved = True
                            cell = {(n.col, n.row): n for n in members}
                        else:
                            node.row = old
                            if other:
                                other.row = row
            if not improved:
                break

    # geometry --------------------------------------------------------------------------------

    def _geometry(self, top: float) -> Result:
        colw = [0.0] * self.columns
        for n in self.nodes.values():
            if not n.satellite:
                colw[n.col] = max(colw[n.col], n.w)
        # a gap wide enough for the labels of the flows that leave the column
        gaps = [GAP_X / 2] + [GAP_X] * self.columns
        for f in self.flows:
            source = self.nodes[f.source]
            if f.name and not source.attached_to:
                label_w = external_label(f.name)[0]
                gaps[source.col + 1] = max(gaps[source.col + 1], label_w + 30)
        for n in self.nodes.values():  # and for a gateway's label above its left corner
            if n.kind == "gateway" and n.name:
                gaps[n.col] = max(gaps[n.col], external_label(n.name)[0] + 16)
        gaps[-1] = max(GAP_X / 2, gaps[-1] - GAP_X / 2)
        self.col_x: list[float] = []
        self.gaps = gaps
        x = self.left
        for c, w in enumerate(colw):
            x += gaps[c]
            self.col_x.append(round(x))
            x += w
        width = x + gaps[-1] - self.left
        self.colw = colw
        lane_y: dict[str, float] = {}
        lane_h: dict[str, float] = {}
        self.row_y: dict[tuple[str, int], tuple[float, float]] = {}
        y = top
        for lane in self.lanes:
            lane_y[lane] = y
            members = self._in_lane(lane)
            rows = max((n.row for n in members), default=0) + 1
            cursor = y + LANE_PAD_TOP
            for r in range(rows):
                h = max([n.h for n in members if n.row == r] or [50])
                self.row_y[(lane, r)] = (cursor, h)
                cursor += h + GAP_Y
            lane_h[lane] = cursor - GAP_Y + LANE_PAD_BOTTOM - y
            y += lane_h[lane]
        for n in self.nodes.values():
            if n.satellite:
                continue
            row_top, row_h = self.row_y[(n.lane, n.row)]
            n.x = round(self.col_x[n.col] + (colw[n.col] - n.w) / 2)
            n.y = round(row_top + (row_h - n.h) / 2)
        for host, attached in self.boundaries.items():
            h = self.nodes[host].box
            for i, attached_id in enumerate(attached):  # side by side along the bottom
                b = self.nodes[attached_id]
                b.x = h.right - 20 - b.w - i * (b.w + 12)
                b.y = h.bottom - b.h / 2
        for n in self.nodes.values():
            if n.beside:
                before = self.nodes[n.beside]
                gap = self.gaps[before.col + 1]
                n.x = round(self.col_x[before.col] + colw[before.col] + (gap - n.w) / 2)
                n.y = round(before.box.cy - n.h / 2)
        self.lane_y, self.lane_h = lane_y, lane_h
        return Result(lane_y, lane_h, width, y - top)

    def _node_labels(self) -> None:
        shapes = [n.box for n in self.nodes.values()]
        placed: list[Box] = []
        for n in self.nodes.values():
            if n.kind == "task":
                continue
            w, h = external_label(n.name)
            b = n.box
            if n.attached_to:
                candidates = [
                    Box(b.right + 2, b.cy + 2, w, h),
                    Box(b.x - w - 2, b.cy + 2, w, h),
                    Box(b.cx - w / 2, b.bottom + 2, w, h),
                ]
            elif n.kind == "gateway":  # above left: the gateway's four sides stay free
                candidates = [
                    Box(b.x - w - 2, b.y - h + 12, w, h),
                    Box(b.right + 2, b.y - h + 12, w, h),
                    Box(b.cx - w / 2, b.y - h - 4, w, h),
                    Box(b.cx - w / 2, b.bottom + 4, w, h),
                    Box(b.x - w - 2, b.bottom - 12, w, h),
                    Box(b.right + 2, b.bottom - 12, w, h),
                ]
            else:
                candidates = [
                    Box(b.cx - w / 2, b.bottom + 4, w, h),
                    Box(b.cx - w / 2, b.y - h - 4, w, h),
                    Box(b.x - w - 4, b.y - h, w, h),
                    Box(b.right + 4, b.y - h, w, h),
                ]
            lane_box = Box(0, self.lane_y[n.lane], 1e9, self.lane_h[n.lane])
            best = None
            for c in candidates:
                inside = lane_box.y <= c.y and c.bottom <= lane_box.bottom
                clash = sum(c.overlaps(s) for s in shapes) + sum(c.overlaps(p) for p in placed)
                score = clash * 10 + (0 if inside else 5)
                if best is None or score < best[0]:
                    best = (score, c)
            assert best is not None
            n.label = best[1]
            placed.append(best[1])

    # 4. routing ------------------------------------------------------------------------------

    def _grid(self) -> None:
        xs: set[float] = set()
        ys: set[float] = set()
        for n in self.nodes.values():
            b = n.box
            xs |= {b.cx}
            ys |= {b.cy}
            if not n.attached_to:
                xs |= {b.x, b.right}
                ys |= {b.y, b.bottom}
            else:
                ys.add(b.bottom)
        for c, x in enumerate(self.col_x):
            start = x - self.gaps[c]
            for k in range(1, TRACKS + 1):
                xs.add(round(start + self.gaps[c] * k / (TRACKS + 1)))
        last = self.col_x[-1] + self.colw[-1]
        for k in range(1, TRACKS + 1):
            xs.add(round(last + self.gaps[-1] * k / (TRACKS + 1)))
        for lane in self.lanes:
            rows = [r for (ln, r) in self.row_y if ln == lane]
            for r in rows:
                row_top, row_h = self.row_y[(lane, r)]
                gap_top = row_top + row_h
                gap = GAP_Y if (lane, r + 1) in self.row_y else LANE_PAD_BOTTOM
                for k in range(1, TRACKS + 1):
                    ys.add(round(gap_top + gap * k / (TRACKS + 1)))
                if r == 0:
                    for k in range(1, 3):
                        ys.add(round(self.lane_y[lane] + LANE_PAD_TOP * k / 3))
        self.xs = sorted(xs)
        self.ys = sorted(ys)
        self.obstacles: list[tuple[str, Box]] = []
        for n in self.nodes.values():
            self.obstacles.append((n.id, Box(n.x - 5, n.y - 5, n.w + 10, n.h + 10)))
            if n.label:
                lb = n.label
                self.obstacles.append(
                    (f"label:{n.id}", Box(lb.x - 2, lb.y - 2, lb.w + 4, lb.h + 4))
                )
        # blocked grid edges: (i, j, axis) -> ids of the shapes in the way
        self.blocked: dict[tuple[int, int, int], frozenset[str]] = {}
        for j, y in enumerate(self.ys):
            for i in range(len(self.xs) - 1):
                x0, x1 = self.xs[i], self.xs[i + 1]
                ids = frozenset(
                    oid
                    for oid, b in self.obstacles
                    if b.y < y < b.bottom and x0 < b.right and b.x < x1
                )
                if ids:
                    self.blocked[(i, j, 0)] = ids
        for i, x in enumerate(self.xs):
            for j in range(len(self.ys) - 1):
                y0, y1 = self.ys[j], self.ys[j + 1]
                ids = frozenset(
                    oid
                    for oid, b in self.obstacles
                    if b.x < x < b.right and y0 < b.bottom and b.y < y1
                )
                if ids:
                    self.blocked[(i, j, 1)] = ids
        self.used: dict[tuple[int, int, int], set[tuple[str, str]]] = {}
        self.port_use: dict[tuple[str, int], set[tuple[str, str]]] = {}
        self.through: dict[tuple[int, int], dict[int, set[tuple[str, str]]]] = {}

    def _ports(
        self, node: LNode, outgoing: bool, back: bool
    ) -> list[tuple[float, float, int, float]]:
        """(x, y, direction, cost) of the points a flow may leave (or enter) the shape by;
        directions 0 right, 1 down, 2 left, 3 up (pointing away from the shape)."""
        b = node.box
        if node.attached_to:
            return [(b.cx, b.bottom, 1, 0)]
        right, down, left, up = (
            (b.right, b.cy, 0),
            (b.cx, b.bottom, 1),
            (b.x, b.cy, 2),
            (b.cx, b.y, 3),
        )
        if outgoing:
            costs = [60, 0, 400, 10] if back else [0, 20, 400, 20]
            ports = [right, down, left, up]
        else:
            costs = [400, 0, 60, 10] if back else [400, 20, 0, 20]
            ports = [right, down, left, up]
        return [(x, y, d, c) for (x, y, d), c in zip(ports, costs, strict=True)]

    def _route(self, f: LFlow, over_labels: bool = False) -> list[tuple[float, float]]:
        """The cheapest orthogonal route; past labels only when there is no other."""
        source = self.nodes[f.source]
        target = self.nodes[f.target]
        host = source.attached_to or f.source
        back = (host, f.target) in self.back
        ends = {f.source, f.target}
        key = (f.source, f.target)
        xi = {x: i for i, x in enumerate(self.xs)}
        yi = {y: j for j, y in enumerate(self.ys)}
        goals: dict[tuple[int, int], tuple[int, float]] = {}
        for x, y, d, c in self._ports(target, False, back):
            # a side that flows leave by is not entered by another (and the other way round)
            if any(use[0] == "out" for use in self.port_use.get((f.target, d), ())):
                c += 1000
            goals[(xi[x], yi[y])] = ((d + 2) % 4, c)
        gx = [self.xs[i] for i, _ in goals]
        gy = [self.ys[j] for _, j in goals]
        step = ((1, 0), (0, 1), (-1, 0), (0, -1))
        heap: list[tuple[float, float, int, int, int, int]] = []
        best: dict[tuple[int, int, int], float] = {}
        parent: dict[tuple[int, int, int], tuple[int, int, int] | None] = {}
        counter = 0
        for x, y, d, c in self._ports(source, True, back):
            uses = self.port_use.get((f.source, d), ())
            if any(use[0] == "in" for use in uses):
                c += 1000
            if any(use[0] == "out" and use[1] != f.target for use in uses):
                c += REUSE
            state = (xi[x], yi[y], d)
            best[state] = c
            parent[state] = None
            h = min(abs(x - a) + abs(y - b) for a, b in zip(gx, gy, strict=True))
            heapq.heappush(heap, (c + h, c, counter, *state))
            counter += 1
        starts = set(best)
        found = None
        while heap:
            _, cost, _, i, j, d = heapq.heappop(heap)
            state = (i, j, d)
            if cost > best.get(state, math.inf):
                continue
            if (i, j) in goals and goals[(i, j)][0] == d and state not in starts:
                found = state
                break
            for nd, (di, dj) in enumerate(step):
                if nd == (d + 2) % 4:
                    continue
                if state in starts and nd != d:
                    continue  # leave the shape straight out of its port
                ni, nj = i + di, j + dj
                if not (0 <= ni < len(self.xs) and 0 <= nj < len(self.ys)):
                    continue
                axis = 0 if dj == 0 else 1
                edge = (min(i, ni), j, 0) if axis == 0 else (i, min(j, nj), 1)
                blocking = self.blocked.get(edge, frozenset())
                if over_labels:
                    blocking = frozenset(b for b in blocking if not b.startswith("label:"))
                if blocking - ends:
                    continue
                arriving = (ni, nj) in goals and goals[(ni, nj)][0] == nd
                if blocking and not (state in starts or arriving):
                    # near its own ends a flow may pass the margin, never the shape itself
                    p, q = (self.xs[i], self.ys[j]), (self.xs[ni], self.ys[nj])
                    if any(_segment_hits(p, q, self.nodes[e].box) for e in blocking):
                        continue
                length = abs(self.xs[ni] - self.xs[i]) + abs(self.ys[nj] - self.ys[j])
                extra = BEND if nd != d else 0
                others = self.used.get(edge)
                if others and any(o[1] != key[1] for o in others):
                    extra += REUSE
                crossing = self.through.get((ni, nj), {}).get(1 - axis)
                if crossing and any(o[0] != key[0] and o[1] != key[1] for o in crossing):
                    extra += CROSS
                if arriving:
                    extra += goals[(ni, nj)][1]
                new = cost + length + extra
                nstate = (ni, nj, nd)
                if new < best.get(nstate, math.inf):
                    best[nstate] = new
                    parent[nstate] = state
                    x, y = self.xs[ni], self.ys[nj]
                    h = min(abs(x - a) + abs(y - b) for a, b in zip(gx, gy, strict=True))
                    heapq.heappush(heap, (new + h, new, counter, *nstate))
                    counter += 1
        if found is None:
            if not over_labels:
                return self._route(f, over_labels=True)
            raise ValueError(f"no route for flow {f.id}")
        cells: list[tuple[int, int, int]] = []
        s: tuple[int, int, int] | None = found
        while s is not None:
            cells.append(s)
            s = parent[s]
        cells.reverse()
        for (i0, j0, _), (i1, j1, _d1) in zip(cells, cells[1:], strict=False):
            axis = 0 if j0 == j1 else 1
            edge = (min(i0, i1), j0, 0) if axis == 0 else (i0, min(j0, j1), 1)
            self.used.setdefault(edge, set()).add(key)
            self.through.setdefault((i1, j1), {}).setdefault(axis, set()).add(key)
            self.through.setdefault((i0, j0), {}).setdefault(axis, set()).add(key)
        points = [(self.xs[i], self.ys[j]) for i, j, _ in cells]
        simple = [points[0]]
        for p, q in zip(points[1:], points[2:], strict=False):
            a = simple[-1]
            if not ((a[0] == p[0] == q[0]) or (a[1] == p[1] == q[1])):
                simple.append(p)
        simple.append(points[-1])
        return simple

    # 5. flow labels --------------------------------------------------------------------------

    def _flow_labels(self) -> None:
        shapes = [n.box for n in self.nodes.values()]
        labels = [n.label for n in self.nodes.values() if n.label]
        segments = [
            (f, a, b) for f in self.flows for a, b in zip(f.points, f.points[1:], strict=False)
        ]
        for f in self.flows:
            if not f.name:
                continue
            w, h = external_label(f.name)
            best = None
            for k, (a, b) in enumerate(zip(f.points, f.points[1:], strict=False)):
                length = abs(b[0] - a[0]) + abs(b[1] - a[1])
                for t in (6, 20, 40, length / 2 - h / 2, length - w - 6):
                    if t < 0 or t > length:
                        continue
                    if a[1] == b[1]:  # horizontal: above or below
                        x = min(a[0], b[0]) + t if b[0] > a[0] else max(a[0], b[0]) - t - w
                        cands = [Box(x, a[1] - h - 2, w, h), Box(x, a[1] + 2, w, h)]
                    else:
                        y = min(a[1], b[1]) + t if b[1] > a[1] else max(a[1], b[1]) - t - h
                        cands = [Box(a[0] + 3, y, w, h), Box(a[0] - w - 3, y, w, h)]
                    for c in cands:
                        hard = sum(c.overlaps(s) for s in shapes) + sum(
                            c.overlaps(lb) for lb in labels
                        )
                        soft = sum(1 for _g, p, q in segments if _segment_hits(p, q, c))
                        score = hard * 1000 + soft * 30 + k * 8 + t / 5
                        if best is None or score < best[0]:
                            best = (score, c)
            assert best is not None
            f.label = best[1]
            labels.append(best[1])

    def run(self, top: float) -> Result:
        for f in self.flows:
            for end in (f.source, f.target):
                if end not in self.nodes:
                    raise ValueError(f"flow refers to unknown element {end}")
        self._graph()
        self._columns()
        self._rows()
        result = self._geometry(top)
        self._node_labels()
        self._grid()
        order = sorted(
            self.flows,
            key=lambda f: (
                (self.nodes[f.source].attached_to or f.source, f.target) in self.back,
                abs(self.nodes[f.source].x - self.nodes[f.target].x)
                + abs(self.nodes[f.source].y - self.nodes[f.target].y),
            ),
        )
        for f in order:
            f.points = self._route(f)
        self._flow_labels()
        return result


def _crosses(a, b, c, d) -> bool:
    def orient(p, q, r):
        v = (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])
        return (v > 1e-9) - (v < -1e-9)

    return orient(a, b, c) * orient(a, b, d) < 0 and orient(c, d, a) * orient(c, d, b) < 0


def _segment_hits(p, q, box: Box) -> bool:
    """Whether an axis-parallel segment passes through the box."""
    if p[1] == q[1]:
        return box.y < p[1] < box.bottom and min(p[0], q[0]) < box.right and box.x < max(p[0], q[0])
    return box.x < p[0] < box.right and min(p[1], q[1]) < box.bottom and box.y < max(p[1], q[1])
