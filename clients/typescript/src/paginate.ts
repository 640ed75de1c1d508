/** Cursor pagination as an async iterator: every item of every page, fetching the next page only when needed. */

export interface Page<Item> {
  readonly data: readonly Item[];
  readonly next_cursor: string | null;
}

/**
 * `page(cursor)` fetches one page (undefined: the first); iteration follows `next_cursor` until it is null.
 * `for await (const e of paginate((cursor) => api.getV1Events({ query: { status: "DEAD", cursor } })))`
 */
export async function* paginate<Item>(
  page: (cursor: string | undefined) => Promise<{ data: Page<Item> }>,
): AsyncGenerator<Item, void, undefined> {
  let cursor: string | undefined;
  do {
    const { data } = await page(cursor);
    yield* data.data;
    cursor = data.next_cursor ?? undefined;
  } while (cursor !== undefined);
}
