//go:build ignore

// This program writes common-passwords.txt: passwords of at least MinPasswordLength characters that people
// pick most, built from the words, names and keyboard walks at the top of every public breach list, the
// suffixes people append to them (digit runs, years, "!"), doublings, and a few famous long ones. Only
// entries of 12 characters or more are kept: shorter ones are refused by length already.
//
// Run it with `go generate ./identity` in shared/ after changing the lists below. Comparison is on lower case,
// so the lists are lower case too.
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

const minLength = 12

// words are the bases: the most frequent words, names, teams and keyboard walks of breach top lists.
var words = strings.Fields(`
password passw0rd p@ssword p@ssw0rd pa55word passwort motdepasse contraseña senha parola wachtwoord
qwerty qwertz azerty qwertyui qwertyuiop asdfgh asdfghjk asdfghjkl zxcvbn zxcvbnm qazwsx qazwsxedc
1qaz2wsx 1qaz2wsx3edc 1q2w3e4r 1q2w3e4r5t 1q2w3e 1q2w3e4r5t6y q1w2e3r4 q1w2e3r4t5 q1w2e3r4t5y6 zaq12wsx
zaq1xsw2 qweasd qweasdzxc asdqwe qwe123 qweqwe asdasd zxczxc abc abcd abcdef abcdefg abcdefgh abcabc
iloveyou iloveu ilovegod ilovemymom ilovemom ilovedad iloveyou2 loveyou lovely loveme lover lovers love
welcome letmein trustno1 changeme secret default admin administrator root master login access
monkey dragon shadow sunshine princess football baseball basketball soccer hockey tennis golf
superman batman spiderman ironman starwars pokemon minecraft fortnite pikachu naruto
michael jennifer jordan hunter charlie thomas robert daniel andrew joshua matthew anthony william
jessica ashley amanda nicole michelle samantha elizabeth jasmine hannah sophie olivia emily emma
taylor madison chelsea melissa heather stephanie victoria natasha alexander alexandra christopher
jonathan nicholas benjamin samuel patrick richard joseph steven justin brandon kevin jason eric
george edward oliver jackson tyler austin dallas dakota phoenix maverick ginger pepper buster
tigger bailey maggie molly lucky sparky snoopy scooby cookie peanut muffin fluffy bubbles kitty
mustang ferrari porsche corvette mercedes camaro toyota honda yamaha harley nissan chevy
killer hello freedom whatever computer internet qwerty123 summer winter spring autumn
orange banana cherry apple chocolate cheese coffee pizza pumpkin butterfly flower rainbow
diamond silver golden crystal angel angels heaven forever family friends jesus christ blessed
liverpool arsenal chelsea manchester barcelona realmadrid juventus yankees lakers cowboys
steelers eagles packers patriots redsox raiders broncos giants rangers
matrix merlin gandalf wizard ninja samurai warrior knight legend hammer thunder falcon tiger
tigers lion eagle wolf bear panther cobra viper spider monster
nirvana metallica slipknot eminem beatles
london paris newyork chicago boston canada america brasil mexico
asdf1234 abcd1234 qwer1234 zxcv1234 pass1234 test1234 admin1234 user1234
test testing tester guest user demo temp sample example
google facebook youtube twitter instagram linkedin amazon microsoft apple123 samsung
blink182 babygirl babyboy sweetheart sweetie honey darling beautiful princesa
superstar rockstar popstar gangster player playboy hottie sexy
secret123 mypassword yourpassword thepassword newpassword oldpassword nopassword
letmein123 iamthebest bestfriend myspace blahblah whatsup goodluck
football1 baseball1 password1 princess1 sunshine1 iloveyou1 monkey1 dragon1
`)

// suffixes are what people append to reach a length rule.
var suffixes = strings.Fields(`
1 12 123 1234 12345 123456 1234567 12345678 123456789 1234567890 0 00 000 01 007 11 111 1111 13 21 22
69 77 88 99 100 101 321 4321 54321 654321 987654321 2 3 4 5 7 8 9 ! !! !!! 1! 12! 123! 1234! @ @123
# $ * . ? 123abc abc abc123 xyz qwe qwerty
`)

// long are famous passwords that are long enough already, or keyboard and digit runs.
var long = strings.Fields(`
correcthorsebatterystaple correct-horse-battery-staple trustno1trustno1 letmeinletmein
123456789012 1234567890123 12345678901234 123456789012345 1234567890qwerty 0123456789ab 098765432112
111111111111 000000000000 121212121212 123123123123 112233445566 987654321098 147258369000 159753159753
qwertyuiopasdf qwertyuiopasdfgh qwertyuiopasdfghjkl qwertyuiopasdfghjklzxcvbnm asdfghjklqwerty
zxcvbnmasdfghjkl 1qaz2wsx3edc4rfv 1qazxsw23edc zaq12wsxcde3 !qaz2wsx#edc !qaz@wsx#edc qazwsxedcrfv
qazwsxedcrfvtgb q1w2e3r4t5y6u7 1q2w3e4r5t6y7u 1234qwerasdf 1234qwerasdfzxcv qwer1234asdf asdfqwer1234
abcdefghijkl abcdefghijklm abcdefghijklmnop abcdefghijklmnopqrstuvwxyz abcdefg12345 abc123abc123
aaaaaaaaaaaa aaaaaaaaaaaaaaaa zzzzzzzzzzzz qqqqqqqqqqqq xxxxxxxxxxxx
iloveyouforever iloveyoutoo iloveyousomuch iloveyoubaby iloveyoumore ihateyou123 iloveyou4ever
thisismypassword thisisapassword mypasswordis passwordisstrong strongpassword supersecret123
changeme123! welcome2thejungle letmein4ever hellohello123 helloworld12 helloworld123 hello123456
administrator administrator1 administrator123 adminadmin123 rootroot1234 useruser1234 testtest1234
qwerty123456 qwerty1234567 password1234567 passwordpassword passwordpassword1 password123456
`)

func main() {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		p = strings.ToLower(p)
		if utf8.RuneCountInString(p) < minLength || seen[p] {
			return
		}
		seen[p] = true
		out = append(out, p)
	}
	for _, p := range long {
		add(p)
	}
	for _, w := range words {
		add(w)
		add(w + w)
		for _, s := range suffixes {
			add(w + s)
			add(s + w)
			if len(s) <= 3 {
				add(w + s + s)
			}
		}
		for y := 1950; y <= 2030; y++ {
			add(fmt.Sprint(w, y))
			add(fmt.Sprint(w, y, "!"))
		}
		for _, prefix := range []string{"my", "the", "ilove", "iloveyou", "super"} {
			add(prefix + w)
			add(prefix + w + "1")
			add(prefix + w + "123")
			add(prefix + w + "1234")
		}
	}
	// Digit runs and repeated digits of every length from 12 to 20.
	for n := minLength; n <= 20; n++ {
		var run, down strings.Builder
		for i := range n {
			run.WriteByte(byte('0' + (i+1)%10))
			down.WriteByte(byte('9' - i%10))
		}
		add(run.String())
		add(down.String())
		for d := '0'; d <= '9'; d++ {
			add(strings.Repeat(string(d), n))
		}
	}
	slices.Sort(out)
	if err := os.WriteFile("common-passwords.txt", []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d passwords\n", len(out))
}
