// Where the dashboard links a version's commit and pull request (ui/src/repository.ts): from every form
// push records in `source.repository`, and never from anything else.
import { describe, expect, it } from "vitest";
import { commitUrl, pullRequestUrl, repositoryWebUrl } from "../../ui/src/repository.js";

describe("the dashboard's repository links", () => {
  it("reads GITHUB_REPOSITORY and the origin remote's https, ssh and scp forms", () => {
    expect(repositoryWebUrl("acme/config")).toBe("https://github.com/acme/config");
    expect(repositoryWebUrl("https://github.com/acme/config.git")).toBe("https://github.com/acme/config");
    expect(repositoryWebUrl("https://github.com/acme/config/")).toBe("https://github.com/acme/config");
    expect(repositoryWebUrl("git@github.com:acme/config.git")).toBe("https://github.com/acme/config");
    expect(repositoryWebUrl("ssh://git@GitLab.example.com:2222/group/sub/config.git")).toBe(
      "https://gitlab.example.com/group/sub/config",
    );
    // push strips credentials, but an older snapshot may have them: they never reach the link.
    expect(repositoryWebUrl("https://user:pw@github.com/acme/config")).toBe("https://github.com/acme/config");
  });

  it("builds no link from a directory name, another scheme, a path that climbs or a hostile value", () => {
    for (const r of [
      null,
      "config",
      "/srv/git/config",
      "file:///srv/git/config",
      "javascript:alert(1)//x/y",
      "https://github.com/acme/../evil",
      "https://github.com/acme/config?x=1",
      'https://github.com/acme/"onmouseover',
      "github.com:acme/conf ig",
      "../x",
    ])
      expect(repositoryWebUrl(r), String(r)).toBeNull();
  });

  it("links a hexadecimal commit and a positive pull request number; a merge request on GitLab", () => {
    const sha = "0123456789abcdef0123456789abcdef01234567";
    expect(commitUrl("acme/config", sha)).toBe(`https://github.com/acme/config/commit/${sha}`);
    expect(commitUrl("acme/config", "HEAD~1")).toBeNull();
    expect(commitUrl("config", sha)).toBeNull();
    expect(pullRequestUrl("acme/config", 42)).toBe("https://github.com/acme/config/pull/42");
    expect(pullRequestUrl("https://gitlab.com/g/config.git", 7)).toBe("https://gitlab.com/g/config/-/merge_requests/7");
    expect(pullRequestUrl("acme/config", 0)).toBeNull();
    expect(pullRequestUrl("acme/config", null)).toBeNull();
  });
});
