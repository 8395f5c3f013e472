// Go's text/tabwriter as docker configures it (minwidth 10, tabwidth 1, padding 3, blanks):
// a cell ended by a tab is padded to its column's width; the last cell of a line is not.

export function tabwrite(text: string, minWidth = 10, padding = 3): string {
  const lines = text.split('\n');
  const trailingNewline = lines[lines.length - 1] === '';
  if (trailingNewline) lines.pop();
  const rows = lines.map((line) => line.split('\t'));
  const out: string[] = [];
  // tabwriter aligns each column over a block of consecutive lines that have that column.
  let start = 0;
  while (start < rows.length) {
    const widths: number[] = [];
    let end = start;
    while (end < rows.length && ((rows[end]?.length ?? 0) > 1 || end === start)) end++;
    for (let r = start; r < end; r++) {
      const cells = rows[r] ?? [];
      cells.slice(0, -1).forEach((cell, c) => { widths[c] = Math.max(widths[c] ?? 0, Math.max(displayWidth(cell) + padding, minWidth)); });
    }
    for (let r = start; r < end; r++) {
      const cells = rows[r] ?? [];
      out.push(cells.map((cell, c) => (c < cells.length - 1 ? cell + ' '.repeat((widths[c] ?? 0) - displayWidth(cell)) : cell)).join(''));
    }
    start = end;
  }
  return out.join('\n') + (trailingNewline ? '\n' : '');
}

function displayWidth(s: string): number {
  return [...s].length;
}
