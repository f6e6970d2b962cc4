package work

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/coditect/hyperscale/shared/db"
	"github.com/coditect/hyperscale/shared/page"
	"github.com/coditect/hyperscale/shared/valid"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Kinds of searchable things, as tenant.search_terms.kind stores them.
const (
	searchKindProject int16 = 1
	searchKindTask    int16 = 2
	searchKindComment int16 = 3
)

// Types of search results, as SearchResult.Type names them.
const (
	SearchTypeProject = "project"
	SearchTypeTask    = "task"
	SearchTypeComment = "comment"
)

var searchTypes = map[int16]string{searchKindProject: SearchTypeProject, searchKindTask: SearchTypeTask, searchKindComment: SearchTypeComment}

// MaxSearchLength bounds the q parameter of a search, in characters.
const MaxSearchLength = 200

// MaxSearchWords is how many distinct words of a query a search matches (the first ones); the rest are
// ignored, which keeps a pasted paragraph from becoming a query of hundreds of lookups.
const MaxSearchWords = 8

// MinPrefixLength is the shortest last word that also matches as a prefix ("invo" finds "invoice"). A
// shorter one matches whole words only: the range of every word starting with one or two letters can hold
// most of a tenant's index.
const MinPrefixLength = 3

// searchText is a searchable thing's text: its title (a project's name, a task's title; none for a comment)
// and its body (description, comment body). Title words weigh 2 in a ranking, body words 1.
type searchText struct {
	title, body string
}

// writeSearchTerms brings the rows of one thing in tenant.search_terms from the lexemes of old to those of
// next, in the transaction that changed the thing; an empty old adds a new thing, an empty next removes one.
// pre holds statements of the same change to send in the first round trip (nil for none). The lexemes are
// to_tsvector('english', ...)'s, computed by the server so that they match the migration's backfill and the
// lexemes of a query exactly. Old rows are found again from the old text (term = ANY(...), served by the
// primary key), so the table needs no index by thing. Rows are written with INSERT ... VALUES: Citus refuses
// INSERT ... SELECT under row-level security (DESIGN.md rule 8). It costs one round trip, two when next has
// words.
func writeSearchTerms(ctx context.Context, tx pgx.Tx, pre *pgx.Batch, tenantID uuid.UUID, kind int16, id uuid.UUID, old, next searchText) error {
	b := pre
	if b == nil {
		b = &pgx.Batch{}
	}
	changed := old != next
	if changed && old != (searchText{}) {
		b.Queue(`DELETE FROM tenant.search_terms WHERE tenant_id = $1 AND doc_id = $2
			AND term = ANY (tsvector_to_array(to_tsvector('english', $3) || to_tsvector('english', $4)))`, tenantID, id, old.title, old.body)
	}
	lexize := changed && next != (searchText{})
	if lexize {
		b.Queue(`SELECT l.lexeme, (CASE WHEN 'A' = ANY (l.weights) THEN 2 ELSE 0 END) + (CASE WHEN 'D' = ANY (l.weights) THEN 1 ELSE 0 END)
			FROM unnest(setweight(to_tsvector('english', $1), 'A') || to_tsvector('english', $2)) AS l`, next.title, next.body)
	}
	if b.Len() == 0 {
		return nil
	}
	type term struct {
		lexeme string
		weight int16
	}
	var terms []term
	err := func() error {
		br := tx.SendBatch(ctx, b)
		defer br.Close()
		n := b.Len()
		if lexize {
			n--
		}
		for range n {
			if _, err := br.Exec(); err != nil {
				return err
			}
		}
		if lexize {
			rows, err := br.Query()
			if err != nil {
				return err
			}
			terms, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (term, error) {
				var t term
				err := r.Scan(&t.lexeme, &t.weight)
				return t, err
			})
			if err != nil {
				return err
			}
		}
		return br.Close()
	}()
	if err != nil {
		return fmt.Errorf("derived rows of %s %s: %w", searchTypes[kind], id, err)
	}
	if len(terms) == 0 {
		return nil
	}
	var sql strings.Builder
	sql.WriteString(`INSERT INTO tenant.search_terms (tenant_id, doc_id, kind, term, weight) VALUES `)
	args := make([]any, 3, 3+2*len(terms))
	args[0], args[1], args[2] = tenantID, id, kind
	for i, t := range terms {
		if i > 0 {
			sql.WriteString(", ")
		}
		args = append(args, t.lexeme, t.weight)
		fmt.Fprintf(&sql, "($1, $2, $3, $%d, $%d)", len(args)-1, len(args))
	}
	// A row that is there already is overwritten rather than refused: the rows removed above are those of the
	// old text's lexemes, and should the server's stemming ever change (a major upgrade), a stale row must not
	// make the change fail. An unnamed statement, because its text varies with the number of lexemes and
	// caching each would fill the connection's statement cache with statements run once.
	sql.WriteString(` ON CONFLICT (tenant_id, term, doc_id) DO UPDATE SET kind = excluded.kind, weight = excluded.weight`)
	if _, err := tx.Exec(ctx, sql.String(), append([]any{pgx.QueryExecModeExec}, args...)...); err != nil {
		return fmt.Errorf("search index of %s %s: %w", searchTypes[kind], id, err)
	}
	return nil
}

// SearchResult is one thing a search found.
type SearchResult struct {
	// Type is project, task or comment.
	Type string    `json:"type"`
	ID   uuid.UUID `json:"id"`
	// Title is a project's name, a task's title, or the first line of a comment.
	Title string `json:"title"`
	// Snippet is a short passage of the description or comment body around the words searched for (its start
	// when they are only in the title), as plain text.
	Snippet   string    `json:"snippet"`
	ProjectID uuid.UUID `json:"project_id"`
	// TaskID is the task a comment is on; absent for projects and tasks.
	TaskID *uuid.UUID `json:"task_id,omitempty"`
	// Score ranks results: for each word searched for, 2 when it is in the title plus 1 when it is in the
	// body, doubled for a whole-word match (the last word also matches as a prefix, undoubled).
	Score int `json:"score"`
}

// SearchQuery is a parsed GET /v1/search.
type SearchQuery struct {
	// Text is what to search for: every word must match (the last also as a prefix).
	Text string
	// Limit is the page size.
	Limit int

	after   *searchCursor
	cursors *page.Cursors // signs the next page's cursor; nil in queries built by hand
}

// searchCursor resumes a search after the last result of a page, in (score, id) order. Query fingerprints
// the search it was issued for, so that it is not replayed against another.
type searchCursor struct {
	Order string    `json:"o"`
	Query string    `json:"q"`
	Score int       `json:"s"`
	After uuid.UUID `json:"a"`
}

const searchCursorOrder = "search"

func searchFingerprint(text string) string {
	h := fnv.New64a()
	h.Write([]byte(text))
	return strconv.FormatUint(h.Sum64(), 36)
}

// ParseSearchQuery reads q (required, at most MaxSearchLength characters), limit and cursor. Every bad
// parameter is reported at once, as a valid.Errors naming it. The cursor is opened with c for this search.
func ParseSearchQuery(v url.Values, c *page.Cursors) (SearchQuery, error) {
	var (
		q    = SearchQuery{cursors: c}
		errs valid.Errors
	)
	q.Limit = page.ParseLimit(v, &errs)
	q.Text = strings.TrimSpace(v.Get("q"))
	switch {
	case q.Text == "":
		errs.Add("q", "is required")
	case !utf8.ValidString(q.Text) || strings.ContainsRune(q.Text, 0):
		errs.Add("q", "must be valid text without NUL characters")
	case utf8.RuneCountInString(q.Text) > MaxSearchLength:
		errs.Add("q", fmt.Sprintf("must be at most %d characters", MaxSearchLength))
	}
	if s := v.Get("cursor"); s != "" {
		var cur searchCursor
		if !c.Open(q.cursorScope(), s, &cur) || cur.Order != searchCursorOrder || cur.After == uuid.Nil || cur.Query != searchFingerprint(q.Text) {
			errs = append(errs, page.InvalidCursor())
		} else {
			q.after = &cur
		}
	}
	return q, errs.Err()
}

// cursorScope names the search q asks for, for its cursors: the endpoint and the searched text.
func (q SearchQuery) cursorScope() string {
	return page.Scope("GET /v1/search", url.Values{"q": {q.Text}})
}

// Search finds a tenant's projects, tasks and comments by their words.
type Search struct {
	tenants *db.Tenants
}

// NewSearch returns the search over d's tenant handle.
func NewSearch(d *db.DB) *Search {
	return &Search{tenants: d.Tenants}
}

// wordsSQL reads, in one round trip, the words of a search: the lexemes of the query by to_tsvector('english',
// ...), as the index holds them, the first MaxSearchWords of them by position, the one that comes last in the
// query marked as a prefix when it has at least MinPrefixLength characters (prefix); and, for that prefix,
// the tenant's first two terms that start with it (expansion), found by a skip scan of search_terms' primary
// key, one index probe each: a prefix that stands for one term (most do, once a word is typed out or nearly)
// is searched as that term, one that stands for none finds nothing, one that stands for several is searched
// as a range. The range's upper end is a column of p, not an expression in the condition, so that the
// condition stays leakproof under row-level security (docs/2026-11-26-rls-and-index-conditions.md); lexeme
// || U+10FFFF bounds every term that starts with the lexeme but one continuing with U+10FFFF itself, a
// noncharacter.
var wordsSQL = `WITH RECURSIVE q AS (
	SELECT l.lexeme, l.positions[1] AS first, l.positions[cardinality(l.positions)] AS last
	FROM unnest(to_tsvector('english', $2)) AS l ORDER BY first LIMIT ` + strconv.Itoa(MaxSearchWords) + `
), qw AS (
	SELECT lexeme, last = max(last) OVER () AND char_length(lexeme) >= ` + strconv.Itoa(MinPrefixLength) + ` AS prefix FROM q
), p AS (
	SELECT lexeme, lexeme || U&'\+10FFFF' AS hi FROM qw WHERE prefix
), e (term, n) AS (
	SELECT s.term, 1 FROM p CROSS JOIN LATERAL (SELECT term FROM tenant.search_terms
		WHERE tenant_id = $1 AND term >= p.lexeme AND term < p.hi ORDER BY term LIMIT 1) s
	UNION ALL
	SELECT s.term, e.n + 1 FROM e CROSS JOIN p CROSS JOIN LATERAL (SELECT term FROM tenant.search_terms
		WHERE tenant_id = $1 AND term > e.term AND term < p.hi ORDER BY term LIMIT 1) s
	WHERE e.n < 2
)
SELECT lexeme, prefix, false FROM qw
UNION ALL
SELECT term, false, true FROM e`

// searchTerm is one term a search matches exactly: a whole word of the query (scoring weight*2), or the one
// term its prefix stands for (weight*2 when it is the word itself, weight when a longer word).
type searchTerm struct {
	term   string
	double bool
}

// searchWords are what a search matches: every exact term, and the prefix's range when it stands for several
// terms (prefix, and prefixHigh the first string after the range, "" when none). lexemes are the query's own,
// prefixLexeme among them, for the snippet.
type searchWords struct {
	exact              []searchTerm
	prefix, prefixHigh string
	lexemes            []string
	prefixLexeme       string
}

// readSearchWords runs wordsSQL for text in tx. ok is false when the search can find nothing: the query has
// no words that are indexed, or its prefix starts no term of the tenant.
func readSearchWords(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, text string) (w searchWords, ok bool, err error) {
	rows, err := tx.Query(ctx, wordsSQL, tenantID, text)
	if err != nil {
		return w, false, err
	}
	var expansion []string
	for rows.Next() {
		var (
			term              string
			prefix, expanding bool
		)
		if err := rows.Scan(&term, &prefix, &expanding); err != nil {
			rows.Close()
			return w, false, err
		}
		switch {
		case expanding:
			expansion = append(expansion, term)
		case prefix:
			w.prefixLexeme = term
		default:
			w.exact = append(w.exact, searchTerm{term: term, double: true})
			w.lexemes = append(w.lexemes, term)
		}
	}
	if err := rows.Err(); err != nil {
		return w, false, err
	}
	if w.prefixLexeme != "" {
		switch len(expansion) {
		case 0:
			return w, false, nil
		case 1:
			w.exact = append(w.exact, searchTerm{term: expansion[0], double: expansion[0] == w.prefixLexeme})
		default:
			w.prefix, w.prefixHigh = w.prefixLexeme, prefixEnd(w.prefixLexeme)
		}
	}
	return w, len(w.exact) > 0 || w.prefix != "", nil
}

// prefixEnd returns the first string, in byte order (code point order in UTF-8, the C collation of
// search_terms.term), after every string that starts with p: p with its last rune replaced by the next code
// point, after dropping trailing U+10FFFF runes, which have none. It is "" when no string follows.
func prefixEnd(p string) string {
	for p != "" {
		last, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		if last == utf8.MaxRune {
			continue
		}
		next := last + 1
		if next == 0xD800 { // skip the surrogates, which UTF-8 cannot encode
			next = 0xE000
		}
		return p + string(next)
	}
	return ""
}

// tsquery returns the query's words as a tsquery literal (any of them, the last as a prefix), for ts_headline
// to find them in a body.
func (w searchWords) tsquery() string {
	quote := func(s string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(s) + "'"
	}
	var parts []string
	for _, x := range w.lexemes {
		parts = append(parts, quote(x))
	}
	if w.prefixLexeme != "" {
		parts = append(parts, quote(w.prefixLexeme)+":*")
	}
	return strings.Join(parts, " | ")
}

// searchSQL builds the search of w for tenantID, after the cursor c (nil for the first page), returning
// limit rows. $1 is the tenant; every other value is a parameter too.
//
//   - hits: the things that hold every word, with their score. Exact terms join on doc_id, each read from
//     search_terms' primary key as (tenant_id, term) = (..., term), whose entries are in doc_id order: the
//     planner intersects them with merge joins of index-only scans, walking the postings once without
//     hashing (about five times faster than grouping the postings when the words are common, which is why a
//     prefix that stands for one term is searched as that term). A prefix that stands for several terms is a
//     range, grouped by thing, scoring the best of weight*2 (the word itself) and weight (a longer word).
//     Every condition on search_terms compares the column with a parameter: under row-level security one
//     with an expression over a column (term < x || y) is not leakproof and never becomes an index condition
//     (docs/2026-11-26-rls-and-index-conditions.md).
//   - the results: hits in (score, id) order, newest first among equals (ids are UUIDv7), each checked live
//     (a task's project, a comment's task and project too) by primary-key lookups until the page is full, so
//     the lookups cost the page, not the hits. The snippet is ts_headline's, over the first 3,000 characters
//     of the body.
func searchSQL(tenantID uuid.UUID, w searchWords, c *searchCursor, limit int) (string, []any) {
	args := []any{tenantID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var b strings.Builder
	b.WriteString(`WITH hits AS (`)
	var rangeSQL string
	if w.prefix != "" {
		rangeSQL = `SELECT doc_id, min(kind) AS kind, max(weight * CASE WHEN term = ` + arg(w.prefix) + ` THEN 2 ELSE 1 END) AS score
			FROM tenant.search_terms WHERE tenant_id = $1 AND term >= ` + arg(w.prefix)
		if w.prefixHigh != "" {
			rangeSQL += ` AND term < ` + arg(w.prefixHigh)
		}
		rangeSQL += ` GROUP BY doc_id`
	}
	if len(w.exact) == 0 {
		b.WriteString(rangeSQL)
	} else {
		score := make([]string, len(w.exact))
		for i, t := range w.exact {
			score[i] = "w" + strconv.Itoa(i) + ".weight"
			if t.double {
				score[i] += " * 2"
			}
		}
		if w.prefix != "" {
			score = append(score, "p.score")
		}
		b.WriteString(`SELECT w0.doc_id, w0.kind, ` + strings.Join(score, " + ") + ` AS score FROM tenant.search_terms w0`)
		for i, t := range w.exact[1:] {
			a := "w" + strconv.Itoa(i+1)
			b.WriteString(` JOIN tenant.search_terms ` + a + ` ON ` + a + `.tenant_id = $1 AND ` + a + `.term = ` + arg(t.term) +
				` AND ` + a + `.doc_id = w0.doc_id`)
		}
		if w.prefix != "" {
			b.WriteString(` JOIN (` + rangeSQL + `) p ON p.doc_id = w0.doc_id`)
		}
		b.WriteString(` WHERE w0.tenant_id = $1 AND w0.term = ` + arg(w.exact[0].term))
	}
	b.WriteString(`)
SELECT h.kind, h.doc_id, h.score::int, x.title, x.project_id, x.task_id,
	coalesce(ts_headline('english', left(x.body, 3000), ` + arg(w.tsquery()) + `::tsquery,
		'MaxWords=24, MinWords=10, StartSel="", StopSel=""'), '')
FROM (SELECT * FROM hits`)
	if c != nil {
		b.WriteString(` WHERE (score, doc_id) < (` + arg(c.Score) + `::int, ` + arg(c.After) + `::uuid)`)
	}
	b.WriteString(` ORDER BY score DESC, doc_id DESC) h CROSS JOIN LATERAL (
	SELECT p.name AS title, p.description AS body, p.id AS project_id, NULL::uuid AS task_id FROM tenant.projects p
	WHERE h.kind = 1 AND p.tenant_id = $1 AND p.id = h.doc_id AND p.deleted_at IS NULL
	UNION ALL
	SELECT t.title, t.description, t.project_id, NULL FROM tenant.tasks t
	JOIN tenant.projects p ON p.tenant_id = t.tenant_id AND p.id = t.project_id
	WHERE h.kind = 2 AND t.tenant_id = $1 AND t.id = h.doc_id AND t.deleted_at IS NULL AND p.deleted_at IS NULL
	UNION ALL
	SELECT left(split_part(c.body, E'\n', 1), 120), c.body, t.project_id, t.id FROM tenant.comments c
	JOIN tenant.tasks t ON t.tenant_id = c.tenant_id AND t.id = c.task_id
	JOIN tenant.projects p ON p.tenant_id = t.tenant_id AND p.id = t.project_id
	WHERE h.kind = 3 AND c.tenant_id = $1 AND c.id = h.doc_id AND c.deleted_at IS NULL AND t.deleted_at IS NULL AND p.deleted_at IS NULL
) x
ORDER BY h.score DESC, h.doc_id DESC
LIMIT ` + arg(limit))
	return b.String(), args
}

// Find returns one page of the live projects, tasks and comments of tenantID that contain every word of q,
// best first. A query whose words are all too common to index ("the", "and") finds nothing. It costs two
// round trips in the tenant's transaction: the query's words (wordsSQL), then the search built for them,
// planned for their values each time (an unnamed statement): how many things hold each word decides the
// plan, and a cached generic plan cannot know it.
func (s *Search) Find(ctx context.Context, tenantID uuid.UUID, q SearchQuery) (page.Page[SearchResult], error) {
	if q.Limit < 1 || q.Limit > page.MaxLimit {
		q.Limit = page.DefaultLimit
	}
	var items []SearchResult
	err := s.tenants.InTenant(ctx, tenantID, func(tx pgx.Tx) error {
		w, ok, err := readSearchWords(ctx, tx, tenantID, q.Text)
		if err != nil || !ok {
			return err
		}
		sql, args := searchSQL(tenantID, w, q.after, q.Limit+1)
		rows, err := tx.Query(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...)
		if err != nil {
			return err
		}
		items, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (SearchResult, error) {
			var (
				res  SearchResult
				kind int16
			)
			err := r.Scan(&kind, &res.ID, &res.Score, &res.Title, &res.ProjectID, &res.TaskID, &res.Snippet)
			res.Type = searchTypes[kind]
			return res, err
		})
		return err
	})
	if err != nil {
		return page.Page[SearchResult]{}, fmt.Errorf("search: %w", err)
	}
	return page.Keyset(items, q.Limit, func(last SearchResult) string {
		return q.cursors.Seal(q.cursorScope(), searchCursor{Order: searchCursorOrder, Query: searchFingerprint(q.Text), Score: last.Score, After: last.ID})
	}), nil
}

// BackfillSQL lists the statements that fill, for rows loaded in bulk (scripts/seed, the tenant mover), the two
// tables the stores otherwise keep in step with every write: tenant.search_terms (search.go) and
// tenant.task_counts (dashboard.go). They run as the owner once the projects, tasks and comments are in
// (INSERT ... SELECT, which the application role may not use), on tables that hold no rows of the loaded
// tenants yet. Migration 00008 ran the same statements on the rows that existed then; a test keeps the two in
// step. For a large load, drop search_terms' primary key first and add it back after (see
// docs/2026-11-26-search.md): building it once is about four times faster than growing it row by row.
var BackfillSQL = []string{
	`INSERT INTO tenant.search_terms (tenant_id, term, doc_id, kind, weight)
SELECT p.tenant_id, l.lexeme, p.id, 1,
       (CASE WHEN 'A' = ANY (l.weights) THEN 2 ELSE 0 END) + (CASE WHEN 'D' = ANY (l.weights) THEN 1 ELSE 0 END)
FROM tenant.projects p,
     unnest(setweight(to_tsvector('english', p.name), 'A') || to_tsvector('english', p.description)) AS l`,
	`INSERT INTO tenant.search_terms (tenant_id, term, doc_id, kind, weight)
SELECT t.tenant_id, l.lexeme, t.id, 2,
       (CASE WHEN 'A' = ANY (l.weights) THEN 2 ELSE 0 END) + (CASE WHEN 'D' = ANY (l.weights) THEN 1 ELSE 0 END)
FROM tenant.tasks t,
     unnest(setweight(to_tsvector('english', t.title), 'A') || to_tsvector('english', t.description)) AS l
WHERE t.deleted_at IS NULL`,
	`INSERT INTO tenant.search_terms (tenant_id, term, doc_id, kind, weight)
SELECT c.tenant_id, l.lexeme, c.id, 3, 1
FROM tenant.comments c, unnest(to_tsvector('english', c.body)) AS l
WHERE c.deleted_at IS NULL`,
	`INSERT INTO tenant.task_counts (tenant_id, project_id, status, tasks)
SELECT tenant_id, project_id, status, count(*) FROM tenant.tasks WHERE deleted_at IS NULL GROUP BY tenant_id, project_id, status`,
}
