/**
 * Reads shared by concurrent callers without ever answering one of them with a value read before it asked. Per key
 * at most one read runs; a caller that arrives while one runs waits for the next, which starts when the running one
 * ends and serves everyone who arrived meanwhile. So each answer comes from a read that began after its caller
 * asked (as fresh as reading alone), and a busy key costs one read per round trip instead of one per caller.
 */
export function freshReads<T>(read: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const flights = new Map<string, { running: Promise<T>; next?: Promise<T> }>();
  const run = (key: string): Promise<T> => {
    const flight: { running: Promise<T>; next?: Promise<T> } = { running: read(key) };
    flights.set(key, flight);
    const done = () => {
      if (flights.get(key) === flight && flight.next === undefined) flights.delete(key);
    };
    flight.running.then(done, done);
    return flight.running;
  };
  return (key) => {
    const flight = flights.get(key);
    if (!flight) return run(key);
    const after = () => run(key);
    return (flight.next ??= flight.running.then(after, after));
  };
}
