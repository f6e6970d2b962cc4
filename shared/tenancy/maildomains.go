package tenancy

import (
	_ "embed"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// publicMailList is the data behind publicMail: the domains of public email providers.
//
//go:embed public_mail_domains.txt
var publicMailList string

// mailDomains is the parsed publicMailList: exact registrable domains, and brands listed as "brand.*", which
// match the brand under any public suffix.
type mailDomains struct {
	exact  map[string]bool
	brands map[string]bool
}

var publicMail = parseMailDomains(publicMailList)

func parseMailDomains(text string) mailDomains {
	m := mailDomains{exact: map[string]bool{}, brands: map[string]bool{}}
	for line := range strings.Lines(text) {
		line = strings.ToLower(strings.TrimSpace(line))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if brand, ok := strings.CutSuffix(line, ".*"); ok {
			m.brands[brand] = true
			continue
		}
		m.exact[line] = true
	}
	return m
}

// matches reports whether the registrable domain reg (a name's eTLD+1) or name itself, or any name between
// them, is a listed provider's. name and reg are normalised already.
func (m mailDomains) matches(name, reg string) bool {
	if brand, _, _ := strings.Cut(reg, "."); m.brands[brand] {
		return true
	}
	// Walking every parent also covers listed names that the public suffix list does not see as
	// registrable domains of their own.
	for d := name; ; {
		if m.exact[d] {
			return true
		}
		_, parent, ok := strings.Cut(d, ".")
		if !ok {
			return false
		}
		d = parent
	}
}

// ownershipProblem says why an organization cannot own the syntactically valid, normalised domain name, or
// is "": a public suffix (co.uk, github.io) belongs to no one, and a public email provider's domain, or a name
// under it, belongs to the provider, whose users' addresses an organization must never vouch for.
func ownershipProblem(name string) string {
	reg, err := publicsuffix.EffectiveTLDPlusOne(name)
	if err != nil {
		return "is a public suffix, under which anyone may register names; claim the domain registered under it"
	}
	if publicMail.matches(name, reg) {
		return "is the domain of a public email provider, which no organization can claim"
	}
	return ""
}
