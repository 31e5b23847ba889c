// A line diff (longest common subsequence), grouped into hunks with context lines.
export function lineDiff(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  // Trim the common head and tail first: diagrams differ in a few places.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start += 1;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) { endA -= 1; endB -= 1; }
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  const table = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      table[i][j] = midA[i] === midB[j] ? table[i + 1][j + 1] + 1 : Math.max(table[i + 1][j], table[i][j + 1]);
    }
  }
  const lines = a.slice(0, start).map((text, k) => ({ kind: ' ', text, oldNo: k + 1, newNo: k + 1 }));
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && midA[i] === midB[j]) {
      lines.push({ kind: ' ', text: midA[i], oldNo: start + i + 1, newNo: start + j + 1 }); i += 1; j += 1;
    } else if (j < m && (i >= n || table[i][j + 1] >= table[i + 1][j])) {
      lines.push({ kind: '+', text: midB[j], newNo: start + j + 1 }); j += 1;
    } else {
      lines.push({ kind: '-', text: midA[i], oldNo: start + i + 1 }); i += 1;
    }
  }
  a.slice(endA).forEach((text, k) => lines.push({ kind: ' ', text, oldNo: endA + k + 1, newNo: endB + k + 1 }));
  return lines;
}

export function hunks(lines, context = 3) {
  const keep = new Set();
  lines.forEach((line, index) => {
    if (line.kind !== ' ') for (let k = index - context; k <= index + context; k += 1) keep.add(k);
  });
  const result = [];
  let current = null;
  lines.forEach((line, index) => {
    if (!keep.has(index)) { current = null; return; }
    if (!current) { current = []; result.push(current); }
    current.push(line);
  });
  return result;
}
