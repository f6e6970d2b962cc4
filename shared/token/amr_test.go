package token

import (
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// TestAMR: how a session was authenticated travels in the token as the amr array and comes back as it went;
// a token without it has an empty AMR, and one whose methods are not names is refused.
func TestAMR(t *testing.T) {
	t.Parallel()
	k := genKey(t)
	ks := mustKeySet(t, privPEM(t, k), "")
	v := NewVerifier(ks, testIssuer, testAudience)
	p := testPrincipal()
	p.AMR = "sso:01a23c7a-844a-7a64-b0c7-ebe836775c96 mfa"
	raw, _, err := NewIssuer(ks, testIssuer, testAudience, testTTL).Issue(p, testSession(), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Verify(raw, testNow); err != nil || got != p {
		t.Fatalf("Verify = %+v, %v; want %+v", got, err, p)
	}
	tok, _, _ := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	if amr, _ := tok.Claims.(jwt.MapClaims)["amr"].([]any); len(amr) != 2 || amr[0] != "sso:01a23c7a-844a-7a64-b0c7-ebe836775c96" || amr[1] != "mfa" {
		t.Fatalf("amr claim %v", tok.Claims.(jwt.MapClaims)["amr"])
	}
	if got := p.Methods(); len(got) != 2 || got[1] != "mfa" {
		t.Fatalf("Methods = %v", got)
	}

	for name, amr := range map[string]any{"absent": nil, "empty": []string{}} {
		c := validClaims(testPrincipal())
		if amr != nil {
			c["amr"] = amr
		}
		got, err := v.Verify(sign(t, jwt.SigningMethodES256, k, kidOf(t, k), c), testNow)
		if err != nil || got.AMR != "" {
			t.Fatalf("%s amr: Verify = %+v, %v; want an empty AMR", name, got, err)
		}
	}
	for name, amr := range map[string]any{"a method with a space": []string{"pwd mfa"}, "an empty method": []string{""}, "not an array": "pwd"} {
		c := validClaims(testPrincipal())
		c["amr"] = amr
		if _, err := v.Verify(sign(t, jwt.SigningMethodES256, k, kidOf(t, k), c), testNow); err == nil {
			t.Fatalf("%s: accepted", name)
		}
	}
}
