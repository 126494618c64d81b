import { describe, expect, it } from "vitest";

import { parseRoute, pathFor, staticPath } from "./routes";

describe("routes", () => {
  it("parses every view's path and builds it back", () => {
    for (const path of [
      "/board",
      "/offers",
      "/orders",
      "/devices",
      "/receiving",
      "/shipping",
      "/sales/offers",
      "/sales/listings",
      "/sales/orders",
      "/portal/devices",
      "/portal/sales",
      "/portal/settlements",
      "/finance/settlements",
      "/integrations",
    ]) {
      const route = parseRoute(path);
      expect(route.name).not.toBe("notFound");
      expect(pathFor(route)).toBe(path);
    }
    expect(parseRoute("/")).toEqual({ name: "home" });
    expect(parseRoute("/board/")).toEqual({ name: "board" });
  });

  it("keeps global ids (base64 with / + =) intact", () => {
    const id = "TGlzdGluZzo/+1=";
    const path = pathFor({ name: "listing", id });
    expect(path).toBe("/listings/TGlzdGluZzo%2F%2B1%3D");
    expect(parseRoute(path)).toEqual({ name: "listing", id });
    expect(parseRoute("/orders/T3JkZXI6MQ%3D%3D")).toEqual({ name: "order", id: "T3JkZXI6MQ==" });
  });

  it("knows nothing else", () => {
    expect(parseRoute("/nope")).toEqual({ name: "notFound", path: "/nope" });
    expect(parseRoute("/listings/%E0%A4%A")).toEqual({
      name: "notFound",
      path: "/listings/%E0%A4%A",
    });
    expect(staticPath("board")).toBe("/board");
  });
});
