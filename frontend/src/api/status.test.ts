import { describe, expect, it, vi } from "vitest";

import { createStatusStore, isTerminalClose, nextStatus } from "./status";
import { graphqlWsUrl } from "./urls";

describe("nextStatus", () => {
  it("is live only once the server acknowledged the connection", () => {
    expect(nextStatus("connecting", "opened")).toBe("connecting");
    expect(nextStatus("connecting", "connected")).toBe("live");
  });

  it("goes offline on close and back to connecting on a retry", () => {
    expect(nextStatus("live", "closed")).toBe("offline");
    expect(nextStatus("offline", "connecting")).toBe("connecting");
  });

  it("leaves the state alone on an error, which a close always follows", () => {
    expect(nextStatus("live", "error")).toBe("live");
  });
});

describe("createStatusStore", () => {
  it("tells its listeners about changes only", () => {
    const store = createStatusStore();
    const listener = vi.fn();
    const unsubscribe = store.subscribe(listener);
    store.apply("opened");
    expect(listener).not.toHaveBeenCalled();
    store.apply("connected");
    expect(store.get()).toBe("live");
    expect(listener).toHaveBeenCalledTimes(1);
    unsubscribe();
    store.apply("closed");
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.get()).toBe("offline");
  });
});

describe("graphqlWsUrl", () => {
  it("follows the page's scheme and host", () => {
    expect(graphqlWsUrl({ protocol: "http:", host: "127.0.0.1:8000" })).toBe(
      "ws://127.0.0.1:8000/graphql",
    );
    expect(graphqlWsUrl({ protocol: "https:", host: "devicegraph.example" })).toBe(
      "wss://devicegraph.example/graphql",
    );
  });
});

describe("isTerminalClose", () => {
  it("leaves transient closes to graphql-ws's retries", () => {
    for (const code of [1000, 1001, 1006, 1012, 4403, 4499]) {
      expect(isTerminalClose(code)).toBe(false);
    }
  });

  it("knows the closes graphql-ws does not retry", () => {
    for (const code of [1002, 1011, 4400, 4401, 4500]) {
      expect(isTerminalClose(code)).toBe(true);
    }
  });
});
