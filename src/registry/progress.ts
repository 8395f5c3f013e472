// Progress of pulls and pushes as plain events; the API layer renders them as Docker's
// JSON progress messages ({"status","id","progressDetail":{"current","total"}}).

export interface ProgressEvent {
  /** short layer id (12 hex), a tag, or undefined for whole-image lines */
  id?: string;
  /** Docker's wording: "Pulling fs layer", "Downloading", "Download complete", "Pushed", ... */
  status: string;
  current?: number;
  total?: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

/** Rate-limits byte progress of one id to about one event per `intervalMs` (plus the final one). */
export function throttledProgress(listener: ProgressListener | undefined, id: string, status: string, total: number,
  intervalMs = 100, now: () => number = Date.now): (bytes: number) => void {
  let last = 0;
  return (bytes: number) => {
    if (listener === undefined) return;
    const t = now();
    if (bytes < total && t - last < intervalMs) return;
    last = t;
    listener({ id, status, current: bytes, total });
  };
}
