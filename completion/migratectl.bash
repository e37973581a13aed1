# bash completion for migratectl(1)                         -*- shell-script -*-
#
# Nothing here names a command or an option: the commands come from
# `migratectl --help`, each command's options and arguments from
# `migratectl COMMAND --help` (both printed from the one verb table of
# migratectl), plan names from `migratectl plans --json` and job ids from
# `migratectl list --json`, asked of the daemon at the socket the command
# line names (--socket, else $MIGRATED_SOCKET, else the default). When the
# daemon does not answer within two seconds those complete to nothing.
#
# make install puts this file in $(PREFIX)/share/bash-completion/completions
# as "migratectl", where bash-completion loads it on the first <Tab>.

# Prints, one per line, the values of key $1 in the objects of the array
# that the top-level object of the JSON on standard input holds: "name" of
# {"plans": [{"name": ...}, ...]}. Strings and numbers only, escapes kept.
_migratectl_json_values()
{
	grep -oE '"([^"\\]|\\.)*"|[][{}:,]|-?[0-9]+' |
	    awk -v key="\"$1\"" '
		$0 == "{" || $0 == "[" { depth++; want = 0; next }
		$0 == "}" || $0 == "]" { depth--; want = 0; next }
		$0 == ":" { want = (depth == 3 && last == key); next }
		$0 == "," { want = 0; next }
		want { v = $0; gsub(/^"|"$/, "", v); print v; want = 0 }
		{ last = $0 }'
}

# Runs migratectl "$@" against the daemon, giving up after two seconds.
_migratectl_ask()
{
	if command -v timeout >/dev/null 2>&1; then
		timeout 2 "$_migratectl_cmd" "${_migratectl_socket[@]}" "$@" \
		    2>/dev/null </dev/null
	else
		"$_migratectl_cmd" "${_migratectl_socket[@]}" "$@" \
		    2>/dev/null </dev/null
	fi
}

# Plan names and job ids, from the daemon.
_migratectl_plans()
{
	_migratectl_ask --json plans | _migratectl_json_values name
}

_migratectl_jobs()
{
	_migratectl_ask --json list | _migratectl_json_values id
}

# The commands: the first word of each line under "Commands:".
_migratectl_verbs()
{
	"$_migratectl_cmd" --help 2>/dev/null </dev/null | awk '
		/^Commands:/ { on = 1; next }
		on && /^$/ { exit }
		on && /^  [a-z]/ { print $1 }'
}

# "--name ARG" (ARG empty when it takes none) for each option line of the
# help on standard input: "  -s, --socket PATH  the daemon's socket".
_migratectl_option_lines()
{
	awk '/^  (-[A-Za-z], )?--[a-z]/ {
		sub(/^  (-[A-Za-z], )?/, "")
		arg = ($2 ~ /^[A-Z][A-Z0-9_:=,.]*$/) ? $2 : ""
		print $1, arg
	}'
}

# The values an option's help lists in parentheses, separated by commas:
# "--state S  only jobs in state S (queued, running, ...)" gives queued,
# running, ...; "(1 to 1000000)" or "(default 0)" give nothing.
_migratectl_option_values()
{
	awk -v opt="$1" '
		$1 == opt { on = 1 }
		on { text = text " " $0 }
		on && /\)/ { exit }
		END {
			if (!sub(/^[^(]*\(/, "", text) || !sub(/\).*$/, "", text))
				exit
			n = split(text, v, /,/)
			for (i = 1; i <= n; i++) {
				gsub(/^[ \t]+|[ \t]+$/, "", v[i])
				if (n < 2 || v[i] !~ /^[a-z_]+$/)
					exit
			}
			for (i = 1; i <= n; i++)
				print v[i]
		}'
}

_migratectl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev='' help words w arg
	local -i i verb_at=0 npos=0
	local _migratectl_cmd=${COMP_WORDS[0]}
	local -a _migratectl_socket=()
	local -A takes=()
	local -a opts=()

	COMPREPLY=()
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# COMP_WORDS holds the words as typed: a literal "~/".
	# shellcheck disable=SC2088
	[[ $_migratectl_cmd == "~/"* ]] &&
	    _migratectl_cmd=$HOME/${_migratectl_cmd#"~/"}
	command -v "$_migratectl_cmd" >/dev/null 2>&1 ||
	    _migratectl_cmd=migratectl

	# The socket the command line names, and where the command is.
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case $w in
		-s | --socket)
			((i + 1 < COMP_CWORD)) &&
			    _migratectl_socket=(--socket "${COMP_WORDS[i + 1]}")
			((i++))
			;;
		--socket=*) _migratectl_socket=("$w") ;;
		-s?*) _migratectl_socket=(--socket "${w#-s}") ;;
		-*) ;;
		*) ((verb_at == 0)) && verb_at=i ;;
		esac
	done

	case $prev in
	-s | --socket)
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0
		;;
	esac

	if ((verb_at == 0)); then
		if [[ $cur == -* ]]; then
			words=$("$_migratectl_cmd" --help 2>/dev/null </dev/null |
			    _migratectl_option_lines | cut -d' ' -f1)
		else
			words=$(_migratectl_verbs)
		fi
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return 0
	fi

	local verb=${COMP_WORDS[verb_at]}
	help=$("$_migratectl_cmd" "$verb" --help 2>/dev/null </dev/null) ||
	    return 0
	while read -r w arg; do
		takes[$w]=$arg
		opts+=("$w")
	done < <(_migratectl_option_lines <<<"$help")

	# The option before the cursor wants a value.
	if [[ $prev == --* && -n ${takes[$prev]-} ]]; then
		case $prev in
		--plan) words=$(_migratectl_plans) ;;
		--job) words=$(_migratectl_jobs) ;;
		*) words=$(_migratectl_option_values "$prev" <<<"$help") ;;
		esac
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return 0
	fi

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "${opts[*]}" -- "$cur")
		return 0
	fi

	# Positional arguments: what the synopsis of the usage line names
	# (PLAN or NAME: a plan; JOB: a job id; "JOB ...": several).
	for ((i = verb_at + 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		if [[ $w == --* && -n ${takes[$w]-} ]]; then
			((i++))
		elif [[ $w == -s ]]; then
			((i++))
		elif [[ $w != -* ]]; then
			((npos++))
		fi
	done
	local synopsis=${help%%$'\n'*}
	synopsis=${synopsis#*" $verb"}
	synopsis=" ${synopsis//[\[\]()|]/ } "
	words=
	if [[ $synopsis == *" JOB ... "* ]] || { ((npos == 0)) &&
	    [[ $synopsis == *" JOB "* ]]; }; then
		words=$(_migratectl_jobs)
	fi
	if ((npos == 0)) && [[ $synopsis == *" PLAN "* ||
	    $synopsis == *" NAME "* ]]; then
		words+=" $(_migratectl_plans)"
	fi
	mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
	return 0
}

complete -F _migratectl migratectl
