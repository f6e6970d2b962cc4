package auth

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/coditect/hyperscale/shared/service/servicetest"
	"github.com/google/uuid"
)

// me is a call any authenticated caller may make, to see whether an access token still opens anything.
func me(access string) req {
	return req{Method: "GET", Path: "/v1/auth/memberships", Bearer: access}
}

// fromClient sends r from a client with user agent ua at address ip, as API Gateway forwards it.
func fromClient(ua, ip string, r req) req {
	r.Header = map[string]string{"User-Agent": ua, "X-Forwarded-For": ip + ", 10.0.0.1"}
	return r
}

// The access token of a session that ended is refused at once (the test environment reads the session on
// every request), whatever ended it.
func TestEndedSessionsRefuseTheirAccessTokens(t *testing.T) {
	t.Parallel()
	const newPW = "a brand new long password"
	for _, tc := range []struct {
		name string
		end  func(t *testing.T, f *servicetest.Fixture, h http.Handler, access, refresh string)
	}{
		{"logout", func(t *testing.T, f *servicetest.Fixture, h http.Handler, access, refresh string) {
			servicetest.Expect(t, servicetest.Do(t, h, logoutReq(refresh)), http.StatusNoContent)
		}},
		{"logout-all", func(t *testing.T, f *servicetest.Fixture, h http.Handler, access, refresh string) {
			servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/logout-all", Bearer: access}), http.StatusNoContent)
		}},
		{"password change", func(t *testing.T, f *servicetest.Fixture, h http.Handler, access, refresh string) {
			servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/password", Bearer: access,
				Body: map[string]any{"current_password": servicetest.Password, "new_password": newPW}}), http.StatusNoContent)
		}},
		{"password reset", func(t *testing.T, f *servicetest.Fixture, h http.Handler, access, refresh string) {
			servicetest.Expect(t, servicetest.Do(t, h, resetReq("ada@acme.test")), http.StatusAccepted)
			servicetest.Expect(t, servicetest.Do(t, h, confirmReq(resetToken(t, f, "ada@acme.test"), newPW)), http.StatusNoContent)
		}},
		{"reuse of a spent refresh token", func(t *testing.T, f *servicetest.Fixture, h http.Handler, access, refresh string) {
			servicetest.Expect(t, servicetest.Do(t, h, refreshReq(refresh)), http.StatusOK)
			later := f.Env.Now().Add(f.Env.Config.Token.RefreshReuseInterval + time.Second)
			f.Env.Now = func() time.Time { return later }
			servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(refresh)), http.StatusUnauthorized, "invalid_grant")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := servicetest.New(t)
			h := New(f.Env)
			f.SignUp(t, "acme", "ada@acme.test")
			f.SignUp(t, "beta", "ada@acme.test")
			res := loginOK(t, h, "ada@acme.test", servicetest.Password, "acme")
			access, refresh := res.Str("access_token"), res.Str("refresh_token")
			// A session in another organization, which only logout-all and the password end.
			other := loginOK(t, h, "ada@acme.test", servicetest.Password, "beta").Str("access_token")
			servicetest.Expect(t, servicetest.Do(t, h, me(access)), http.StatusOK)

			tc.end(t, f, h, access, refresh)
			servicetest.ExpectProblem(t, servicetest.Do(t, h, me(access)), http.StatusUnauthorized, "invalid_token")
			otherStatus := servicetest.Do(t, h, me(other)).Status
			wantOther := http.StatusOK
			if tc.name == "logout-all" || tc.name == "password change" || tc.name == "password reset" {
				wantOther = http.StatusUnauthorized
			}
			if otherStatus != wantOther {
				t.Fatalf("the other organization's session answers %d, want %d", otherStatus, wantOther)
			}
		})
	}
}

func TestSessionList(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	// Two proxies in front, as behind API Gateway on Cloud Run: the caller's address is the second entry from
	// the right of X-Forwarded-For (fromClient adds the gateway's after it).
	f.Env.Config.Client.TrustedProxies = 2
	h := New(f.Env)
	f.SignUp(t, "acme", "ada@acme.test")
	f.SignUp(t, "globex", "hank@globex.test")
	laptop := servicetest.Expect(t, servicetest.Do(t, h, fromClient("Firefox/140", "203.0.113.7", login("ada@acme.test", servicetest.Password, ""))), http.StatusOK)
	phone := servicetest.Expect(t, servicetest.Do(t, h, fromClient("Safari/18", "198.51.100.2", login("ada@acme.test", servicetest.Password, ""))), http.StatusOK)
	hank := loginOK(t, h, "hank@globex.test", servicetest.Password, "").Str("access_token")
	list := func(access string) []map[string]any {
		t.Helper()
		res := servicetest.Expect(t, servicetest.Do(t, h, req{Method: "GET", Path: "/v1/auth/sessions", Bearer: access}), http.StatusOK)
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("Cache-Control %q", res.Header.Get("Cache-Control"))
		}
		return res.Items()
	}
	find := func(items []map[string]any, ua string) map[string]any {
		for _, it := range items {
			if c, _ := it["client"].(map[string]any); c["user_agent"] == ua {
				return it
			}
		}
		return nil
	}

	items := list(phone.Str("access_token"))
	// Ada's sign-up opened a session too.
	if len(items) != 3 {
		t.Fatalf("ada's sessions: %v", items)
	}
	p, l := find(items, "Safari/18"), find(items, "Firefox/140")
	if p == nil || l == nil || p["current"] != true || l["current"] != false {
		t.Fatalf("sessions %v: want the phone's current and the laptop's not", items)
	}
	if c := p["client"].(map[string]any); c["address"] != "198.51.100.2" {
		t.Fatalf("phone seen from %v", c["address"])
	}
	if tn := p["tenant"].(map[string]any); tn["slug"] != "acme" || p["created_at"] == nil || p["last_used_at"] == nil {
		t.Fatalf("phone session %v", p)
	}
	laptopID := l["id"].(string)

	// Hank sees only his own, and cannot end ada's: it is not found for him.
	// Hank's sign-up and login: two sessions, none of them ada's.
	if hs := list(hank); len(hs) != 2 || hs[0]["id"] == laptopID || hs[1]["id"] == laptopID || hs[0]["current"] != true {
		t.Fatalf("hank's sessions: %v", hs)
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/auth/sessions/" + laptopID, Bearer: hank}), http.StatusNotFound, "not_found")
	servicetest.Expect(t, servicetest.Do(t, h, me(laptop.Str("access_token"))), http.StatusOK)
	servicetest.Expect(t, servicetest.Do(t, h, refreshReq(laptop.Str("refresh_token"))), http.StatusOK)

	// Ada ends her laptop's session from her phone: its access token is refused, its refresh token too.
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/auth/sessions/" + laptopID, Bearer: phone.Str("access_token")}), http.StatusNoContent)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, me(laptop.Str("access_token"))), http.StatusUnauthorized, "invalid_token")
	if find(list(phone.Str("access_token")), "Firefox/140") != nil {
		t.Fatal("the ended session is still listed")
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "DELETE", Path: "/v1/auth/sessions/" + laptopID, Bearer: phone.Str("access_token")}), http.StatusNotFound, "not_found")
	for _, path := range []string{"/v1/auth/sessions/not-a-uuid", "/v1/auth/sessions/" + uuid.NewString()} {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, req{Method: "DELETE", Path: path, Bearer: phone.Str("access_token")}), http.StatusNotFound, "not_found")
	}
	servicetest.Expect(t, servicetest.Do(t, h, me(phone.Str("access_token"))), http.StatusOK)

	// Without a token, nothing.
	for _, r := range []req{
		{Method: "GET", Path: "/v1/auth/sessions"},
		{Method: "DELETE", Path: "/v1/auth/sessions/" + laptopID},
		{Method: "POST", Path: "/v1/auth/logout-all"},
	} {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, r), http.StatusUnauthorized, "unauthenticated")
	}

	// Logout-all ends every session of ada's and none of hank's.
	servicetest.Expect(t, servicetest.Do(t, h, req{Method: "POST", Path: "/v1/auth/logout-all", Bearer: phone.Str("access_token")}), http.StatusNoContent)
	servicetest.ExpectProblem(t, servicetest.Do(t, h, me(phone.Str("access_token"))), http.StatusUnauthorized, "invalid_token")
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(phone.Str("refresh_token"))), http.StatusUnauthorized, "invalid_grant")
	servicetest.Expect(t, servicetest.Do(t, h, me(hank)), http.StatusOK)
	fresh := loginOK(t, h, "ada@acme.test", servicetest.Password, "").Str("access_token")
	if items := list(fresh); len(items) != 1 || items[0]["current"] != true {
		t.Fatalf("after logout-all and a new login: %v", items)
	}
}

// Two tabs refreshing with one token at once both stay logged in, with the same successor.
func TestConcurrentRefreshesShareTheSuccessor(t *testing.T) {
	t.Parallel()
	f := servicetest.New(t)
	h := New(f.Env)
	ada := f.SignUp(t, "acme", "ada@acme.test")
	start := time.Now()
	f.Env.Now = func() time.Time { return start }
	tok := loginOK(t, h, "ada@acme.test", servicetest.Password, "").Str("refresh_token")

	const n = 8
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		got []servicetest.Response
	)
	for range n {
		wg.Go(func() {
			res := servicetest.Do(t, h, refreshReq(tok))
			mu.Lock()
			got = append(got, res)
			mu.Unlock()
		})
	}
	wg.Wait()
	successor := got[0].Str("refresh_token")
	for _, res := range got {
		servicetest.Expect(t, res, http.StatusOK)
		if res.Str("refresh_token") != successor || successor == tok {
			t.Fatalf("refresh tokens %q and %q: want one successor for all", res.Str("refresh_token"), successor)
		}
		// Each answer's access token opens the session.
		if p := principalOf(t, f, res); p != ada {
			t.Fatalf("principal %+v, want %+v", p, ada)
		}
		servicetest.Expect(t, servicetest.Do(t, h, me(res.Str("access_token"))), http.StatusOK)
	}
	next := servicetest.Expect(t, servicetest.Do(t, h, refreshReq(successor)), http.StatusOK)

	// Past the interval, a replay of the first token is theft: the family is revoked, every token of it fails.
	f.Env.Now = func() time.Time { return start.Add(f.Env.Config.Token.RefreshReuseInterval + time.Second) }
	servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(tok)), http.StatusUnauthorized, "invalid_grant")
	for _, raw := range []string{successor, next.Str("refresh_token")} {
		servicetest.ExpectProblem(t, servicetest.Do(t, h, refreshReq(raw)), http.StatusUnauthorized, "invalid_grant")
	}
	servicetest.ExpectProblem(t, servicetest.Do(t, h, me(next.Str("access_token"))), http.StatusUnauthorized, "invalid_token")
}
