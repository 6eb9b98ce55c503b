# zsh -f zsh_complete.zsh COMPLETIONS-DIR VMDESK-DIR LINE
# Types LINE and Tab into an interactive zsh (zpty) that loads vmdesk's
# completion from COMPLETIONS-DIR with compinit, and prints what the
# terminal shows (the completed line, or the list of candidates).
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='PROM''PT> '; fpath=($1 \$fpath); autoload -Uz compinit; compinit -u -D; export PATH=$2:\$PATH; LISTMAX=10000; setopt nolistambiguous nobeep"
zpty -w -n z "$3"$'\t'
# Read until the terminal has been quiet for 2 s after the line appeared
# (compinit and the completion may be slow on a loaded machine), 60 s at most.
local out= chunk
integer quiet=0 i
for i in {1..300}; do
  if zpty -r -t z chunk; then
    out+=$chunk
    quiet=0
  else
    [[ $out == *"PROMPT> "* ]] && (( ++quiet >= 10 )) && break
    sleep 0.2
  fi
done
print -r -- "${out#*PROMPT> }"
zpty -d z
