# `make test` runs `go test -json ./...` through this: it prints what plain `go test ./...`
# prints (each package's line, a failing test's output, build errors) and then, when a test
# skipped, one line naming each skipped test and the reason it gave, which says what runs it.
# A skip is never silent: `ok` alone would read as if everything ran.

function field(name,    re) {
	re = "\"" name "\":\"([^\"\\\\]|\\\\.)*\""
	if (!match($0, re)) return ""
	return substr($0, RSTART + length(name) + 4, RLENGTH - length(name) - 5)
}

function unescape(s,    out, i, n, c) {
	out = ""
	n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (c != "\\") { out = out c; continue }
		c = substr(s, ++i, 1)
		if (c == "n") out = out "\n"
		else if (c == "t") out = out "\t"
		else if (c == "r") out = out "\r"
		else if (c == "u") {
			c = substr(s, i + 1, 4); i += 4
			out = out (c == "003c" ? "<" : c == "003e" ? ">" : c == "0026" ? "&" : "?")
		} else out = out c
	}
	return out
}

# printTest prints a failing test's output as plain go test does, without the === lines.
function printTest(text,    lines, n, i) {
	n = split(text, lines, "\n")
	for (i = 1; i < n; i++) if (lines[i] !~ /^=== /) print lines[i]
}

# reason is the message a skipped test logged: "    x_test.go:37: needs ..." without the place.
function reason(text,    lines, n, i) {
	n = split(text, lines, "\n")
	for (i = 1; i <= n; i++) if (lines[i] ~ /^ +[^ ]+\.go:[0-9]+: /) {
		sub(/^ +[^ ]+\.go:[0-9]+: /, "", lines[i])
		return lines[i]
	}
	return "no reason given"
}

{
	action = field("Action"); test = field("Test"); pkg = field("Package")
	key = pkg " " test
	if (action == "output" || action == "build-output") {
		out = unescape(field("Output"))
		if (test != "") buf[key] = buf[key] out
		else if (out != "PASS\n") printf "%s", out
	} else if (test != "" && action == "fail") {
		printTest(buf[key]); delete buf[key]
	} else if (test != "" && action == "pass") {
		delete buf[key]
	} else if (test != "" && action == "skip") {
		why = reason(buf[key]); delete buf[key]
		if (!(why in names)) order[++reasons] = why
		names[why] = names[why] (names[why] == "" ? "" : ", ") pkg " " test
		count[why]++
	}
}

END {
	for (i = 1; i <= reasons; i++)
		printf "SKIPPED %d test%s: %s: %s\n", count[order[i]], count[order[i]] == 1 ? "" : "s", names[order[i]], order[i]
}
