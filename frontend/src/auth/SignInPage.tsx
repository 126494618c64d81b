import { type FormEvent, useId, useState } from "react";
import { useMutation } from "urql";

import type { Session } from "../api/session";
import { describeRequestError } from "../shared/errors";
import { asSentence } from "../shared/text";
import { SignInMutation } from "./operations";

export function SignInPage({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [refusal, setRefusal] = useState<string | null>(null);
  const [{ fetching }, signIn] = useMutation(SignInMutation);
  const id = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setRefusal(null);
    const result = await signIn({ email: email.trim(), password });
    if (result.error) {
      setRefusal(describeRequestError(result.error));
      return;
    }
    const outcome = result.data?.signIn;
    if (outcome?.__typename === "SignInPayload") {
      onSignedIn({ token: outcome.token, expiresAt: outcome.expiresAt });
    } else if (outcome) {
      setRefusal(asSentence(outcome.message));
      setPassword("");
    }
  }

  return (
    <div className="page page--narrow">
      <section className="card" aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>Sign in</h1>
        <form onSubmit={submit}>
          <div className="field">
            <label htmlFor={`${id}-email`}>Email</label>
            <input
              id={`${id}-email`}
              type="email"
              name="email"
              autoComplete="username"
              required
              value={email}
              onChange={(event) => setEmail(event.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>Password</label>
            <input
              id={`${id}-password`}
              type="password"
              name="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          </div>
          <button type="submit" className="button" disabled={fetching}>
            {fetching ? "Signing in…" : "Sign in"}
          </button>
          {refusal ? (
            <p className="notice notice--error" role="alert">
              {refusal}
            </p>
          ) : null}
        </form>
      </section>
    </div>
  );
}
