package work

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// projectNamePattern turns a search into an ILIKE pattern matching names that contain it literally.
func projectNamePattern(search string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(search) + "%"
}

// projectNameWords splits the lower-cased s into its words: maximal runs of letters and digits.
func projectNameWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// projectNameSuffixes returns every suffix of every word of name, once each: the rows of
// tenant.project_name_suffixes that let a search find the name. If a name contains a search, the search's
// longest word lies inside one of the name's words, so one of these suffixes starts with it.
func projectNameSuffixes(name string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range projectNameWords(name) {
		for i := range w {
			if sfx := w[i:]; !seen[sfx] {
				seen[sfx] = true
				out = append(out, sfx)
			}
		}
	}
	return out
}

// writeProjectNameSuffixes replaces a project's search rows, in the transaction that set its name.
func writeProjectNameSuffixes(ctx context.Context, tx pgx.Tx, tenantID, projectID uuid.UUID, name string, replace bool) error {
	if replace {
		if _, err := tx.Exec(ctx, `DELETE FROM tenant.project_name_suffixes WHERE tenant_id = $1 AND project_id = $2`, tenantID, projectID); err != nil {
			return err
		}
	}
	suffixes := projectNameSuffixes(name)
	if len(suffixes) == 0 {
		return nil
	}
	// INSERT ... VALUES rather than a SELECT over unnest(): Citus refuses INSERT ... SELECT under RLS.
	var b strings.Builder
	b.WriteString(`INSERT INTO tenant.project_name_suffixes (tenant_id, project_id, suffix) VALUES `)
	args := []any{tenantID, projectID}
	for i, sfx := range suffixes {
		if i > 0 {
			b.WriteString(", ")
		}
		args = append(args, sfx)
		b.WriteString(`($1, $2, $` + strconv.Itoa(len(args)) + `)`)
	}
	_, err := tx.Exec(ctx, b.String(), args...)
	return err
}

// maxProjectSearchWords bounds how many of a search's words narrow the candidates; ILIKE checks the rest.
const maxProjectSearchWords = 3

// projectSearchRanges returns, for the longest few words of search, the range of suffixes [lo, hi) that
// start with the word, in byte order (code point order in UTF-8, and the C collation of the suffix column).
// hi is "" when no string follows the range. A search without words (only punctuation) has no ranges, and
// only the ILIKE recheck answers it. Each range must match for a name that contains the search; the planner
// drives the query from the most selective one, by the column's statistics.
func projectSearchRanges(search string) (ranges [][2]string) {
	words := projectNameWords(search)
	slices.SortStableFunc(words, func(a, b string) int { return utf8.RuneCountInString(b) - utf8.RuneCountInString(a) })
	words = slices.Compact(words)
	for _, lo := range words[:min(len(words), maxProjectSearchWords)] {
		// Every string that starts with lo sorts before lo with its last rune replaced by the next code point.
		last, size := utf8.DecodeLastRuneInString(lo)
		next, hi := last+1, ""
		if next == 0xD800 { // skip the surrogates, which UTF-8 cannot encode
			next = 0xE000
		}
		if next <= unicode.MaxRune {
			hi = lo[:len(lo)-size] + string(next)
		}
		ranges = append(ranges, [2]string{lo, hi})
	}
	return ranges
}
