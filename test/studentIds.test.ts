import { claim, idFrom, maxIdLength, uniqueIds } from "../workshop/studentIds";

describe("idFrom", () => {
  test.each([
    ["ada.lovelace@example.org", "ada-lovelace"],
    ["Zoë Ñúñez", "zoe-nunez"],
    ["Łukasz Straße", "lukasz-strasse"],
    ["Ærøskøbing Þór", "aeroskobing-thor"],
    ["  --Grace   Hopper--  ", "grace-hopper"],
    ["ab--cd", "ab-cd"],
    ["2024student@uni.edu", "s2024student"],
    ["李雷", ""],
    ["@example.org", "example-org"],
    ["a".repeat(40), "a".repeat(maxIdLength)],
    [`${"a".repeat(31)}-b`, "a".repeat(31)],
  ])("%j -> %j", (source, id) => {
    expect(idFrom(source)).toBe(id);
  });

  it("always yields a DNS-safe id starting with a letter, or nothing", () => {
    const samples = ["Ünïcödé", "x", "9", "a_b", "O'Brien", "x\u202Ey", "tab\tname", "ok-1"];
    for (const s of samples) {
      const id = idFrom(s);
      if (id !== "") expect(id).toMatch(/^[a-z]([a-z0-9-]*[a-z0-9])?$/);
      expect(id).not.toContain("--");
      expect(id.length).toBeLessThanOrEqual(maxIdLength);
    }
  });
});

describe("uniqueIds", () => {
  it("numbers collisions in roster order and never hands out a taken id", () => {
    expect(uniqueIds(["ada@a.org", "Ada", "ada@b.org", "grace@x.org", "Grace"], ["ada-2"])).toEqual(
      ["ada", "ada-3", "ada-4", "grace", "grace-2"],
    );
  });

  it("keeps a numbered id within the length limit", () => {
    const long = "b".repeat(40);
    const [first, second] = uniqueIds([long, long]);
    expect(first).toBe("b".repeat(32));
    expect(second).toBe(`${"b".repeat(30)}-2`);
  });

  it("leaves an unusable source empty for the caller to report", () => {
    expect(uniqueIds(["李雷", "li@x.org"])).toEqual(["", "li"]);
  });
});

describe("claim", () => {
  it("suggests the first free variant", () => {
    expect(claim("ada", new Set(["ada", "ada-2"]))).toBe("ada-3");
  });
});
