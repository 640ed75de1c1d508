/**
 * Groups the single requests of concurrent callers into batch calls (SQS's batches of ten, DynamoDB's of 25). A batch
 * leaves when it is full, or `waitMs` after its first item; with `waitMs` 0 it waits only while an earlier batch is
 * on its way (a lone request leaves at once, and the requests that arrive meanwhile leave together when it is back).
 * Each caller learns only its own item's fate.
 */

/** `flush` answers, per item in order, whether it succeeded; a thrown error fails the whole batch. */
export type Flush<T> = (items: readonly T[]) => Promise<readonly boolean[]>;

export function createBatcher<T>(flush: Flush<T>, max: number, waitMs: number): (item: T) => Promise<boolean> {
  let waiting: { item: T; resolve: (ok: boolean) => void; reject: (err: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let inFlight = 0;
  const send = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    inFlight++;
    flush(batch.map((w) => w.item))
      .then(
        (oks) => batch.forEach((w, i) => w.resolve(oks[i] ?? false)),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        inFlight--;
        if (waitMs === 0 && waiting.length > 0 && inFlight === 0) send();
      });
  };
  return (item) =>
    new Promise<boolean>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (waiting.length >= max || (waitMs === 0 && inFlight === 0)) send();
      else if (waitMs > 0) timer ??= setTimeout(send, waitMs);
    });
}
