// A small client of the Hyperscale API, typed by the definitions `make client` generates from the gateway
// document (generated/schema.d.ts, by openapi-typescript) and checked with tsc in CI: when the document
// changes a field this code uses, the check fails here before it fails in the frontend.
//
// Against `make run`, with Node.js 22.6 or later: node --experimental-strip-types example.ts http://127.0.0.1:8080 owner@example.com '<password>'
import createClient from "openapi-fetch";
import type { components, paths } from "./generated/schema.d.ts";

/** An RFC 9457 problem, the body of every error answer. */
export type Problem = components["schemas"]["Problem"];

/** A client of the API at baseUrl, authenticated with token when one is given. */
export function connect(baseUrl: string, token?: string) {
  return createClient<paths>({ baseUrl, headers: token ? { Authorization: `Bearer ${token}` } : {} });
}

/** ProblemError carries a problem's stable code, which callers switch on. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(`${problem.status} ${problem.code}: ${problem.detail ?? problem.title}`);
  }
}

/** Logs in, makes sure a project exists, and adds a task to it; returns the task. */
export async function addTask(baseUrl: string, email: string, password: string, title: string) {
  const login = await connect(baseUrl).POST("/v1/auth/login", { body: { email, password } });
  if (login.error) {
    // An account with an authenticator is asked for its code: POST /v1/auth/login/mfa with the problem's mfa_token.
    if (login.error.code === "mfa_required") throw new Error(`second factor required (mfa_token ${login.error.mfa_token})`);
    throw new ProblemError(login.error);
  }
  const api = connect(baseUrl, login.data.access_token);

  const list = await api.GET("/v1/projects", { params: { query: { limit: 1, order: "-updated" } } });
  if (list.error) throw new ProblemError(list.error);
  let project = list.data.items[0];
  if (!project) {
    const created = await api.POST("/v1/projects", {
      params: { header: { "Idempotency-Key": crypto.randomUUID() } },
      body: { name: "First project", description: "Made by the example client" },
    });
    if (created.error) throw new ProblemError(created.error);
    project = created.data;
  }

  const task = await api.POST("/v1/projects/{id}/tasks", {
    params: { path: { id: project.id }, header: { "Idempotency-Key": crypto.randomUUID() } },
    body: { title, priority: "high", labels: ["example"] },
  });
  if (task.error) throw new ProblemError(task.error);
  return task.data;
}

const [baseUrl, email, password] = process.argv.slice(2);
if (baseUrl && email && password) {
  const task = await addTask(baseUrl, email, password, "Try the typed client");
  console.log(`task ${task.id} "${task.title}" (${task.status}) in project ${task.project_id}`);
}
