// Package sample holds the issue-tracker vocabulary that the 1M-tenant seed (scripts/seed) and the search
// benchmarks (shared/work) draw text from, so that a word has the same selectivity in both: "invoice" is in
// about 2% of tasks, "android" in 5%, "customer" in about 15%.
package sample

// The word lists.
var (
	// Verbs start task titles.
	Verbs = []string{"Fix", "Add", "Update", "Remove", "Refactor", "Investigate", "Document", "Test", "Migrate",
		"Improve", "Review", "Design", "Implement", "Optimize", "Deploy", "Configure", "Clean up", "Upgrade",
		"Validate", "Monitor", "Support", "Translate", "Automate", "Simplify", "Audit"}
	// Adjectives qualify nouns.
	Adjectives = []string{"broken", "slow", "missing", "duplicate", "flaky", "new", "legacy", "mobile", "public",
		"internal", "failing", "stale", "nightly", "weekly", "customer", "billing", "admin", "shared", "secure",
		"offline", "responsive", "accessible", "localized", "experimental", "default"}
	// Nouns are the things tasks are about.
	Nouns = []string{"login page", "signup flow", "invoice", "payment", "checkout", "dashboard", "report",
		"export", "import", "search", "notification", "email template", "webhook", "API endpoint",
		"database index", "cache", "queue", "worker", "cron job", "permission", "role", "invitation",
		"password reset", "session", "token", "upload", "attachment", "comment", "timeline", "calendar", "chart",
		"filter", "sort order", "pagination", "settings page", "profile", "avatar", "onboarding", "tutorial",
		"help center", "release notes", "changelog", "pipeline", "build", "deployment", "container",
		"load balancer", "certificate", "domain", "DNS record", "backup", "restore", "migration script", "schema",
		"audit log", "metrics", "alert", "on-call rotation", "runbook", "SLA", "pricing page", "coupon",
		"subscription", "trial", "refund", "tax rate", "currency", "translation", "keyboard shortcut",
		"dark mode", "tooltip", "modal", "sidebar", "navigation", "breadcrumb", "form validation", "date picker",
		"file picker", "drag and drop", "CSV export", "PDF export", "Slack integration", "GitHub integration",
		"SSO", "SAML configuration", "rate limiter", "feature flag", "error page", "landing page"}
	// Contexts end some titles and sentences.
	Contexts = []string{"for enterprise customers", "on iOS", "on Android", "in Safari", "in the EU region",
		"after deploy", "before release", "for new users", "in staging", "under load", "for admins",
		"in the API", "on the dashboard", "for large accounts", "behind the proxy", "in dark mode",
		"for the quarterly review", "in the mobile app"}
)
