/**
 * Groups the single requests of concurrent callers into batch calls (SQS's batches of ten, DynamoDB's of 25):
 * a batch leaves when it is full or `waitMs` after its first item. Each caller learns only its own item's fate.
 */

/** `flush` answers, per item in order, whether it succeeded; a thrown error fails the whole batch. */
export type Flush<T> = (items: readonly T[]) => Promise<readonly boolean[]>;

export function createBatcher<T>(flush: Flush<T>, max: number, waitMs: number): (item: T) => Promise<boolean> {
  let waiting: { item: T; resolve: (ok: boolean) => void; reject: (err: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const send = () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    flush(batch.map((w) => w.item)).then(
      (oks) => batch.forEach((w, i) => w.resolve(oks[i] ?? false)),
      (err: unknown) => batch.forEach((w) => w.reject(err)),
    );
  };
  return (item) =>
    new Promise<boolean>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (waiting.length >= max) send();
      else timer ??= setTimeout(send, waitMs);
    });
}
