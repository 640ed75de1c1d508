/** Ceiling (a): an Express app that parses the same JSON and answers 201, nothing else. */
import express from "express";

const app = express();
app.post("/v1/events", express.json({ limit: "256kb" }), (_req, res) => {
  res.status(201).json({ event_id: "evt_x", status: "PENDING" });
});
const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === "object" && address ? address.port : 0 })}\n`);
});
