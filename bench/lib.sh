# bench/lib.sh: what the bench scripts share: a real registry (Debian's
# docker-registry, CNCF distribution) on a free 127.0.0.1 port, started and
# stopped by PID. The caller sets REG_DIR, REG_LOG, REG_PID="" and die().

# Stop the registry (only the process this script started, by its PID)
# on any exit: success, error, or a signal.
stop_registry() {
	[[ -n $REG_PID ]] || return 0
	local pid=$REG_PID
	REG_PID=""
	kill -TERM "$pid" 2>/dev/null || true
	# Our unreaped child stays a zombie once it exits: treat Z as gone.
	for _ in $(seq 40); do
		local state
		state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
		[[ -z $state || $state == Z ]] && break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
on_exit() {
	local rc=$?
	stop_registry
	exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port nothing on 127.0.0.1 answers on; start_registry retries if another
# process takes it in between.
pick_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

start_registry() {
	rm -rf "$REG_DIR"
	mkdir -p "$REG_DIR/data"
	local try port
	for try in 1 2 3; do
		port=$(pick_port) || die "no free port on 127.0.0.1"
		# Our own config: loopback only, no auth, storage under bench/out.
		# The access log (on by default) goes to stdout, into $REG_LOG.
		cat >"$REG_DIR/config.yml" <<-EOF
			version: 0.1
			log: {level: error}
			storage:
			  filesystem: {rootdirectory: $PWD/$REG_DIR/data}
			  delete: {enabled: true}
			http: {addr: 127.0.0.1:$port}
		EOF
		docker-registry serve "$REG_DIR/config.yml" >"$REG_LOG" 2>&1 </dev/null &
		REG_PID=$!
		for _ in $(seq 100); do
			if curl -fsS -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; then
				REG="127.0.0.1:$port"
				return 0
			fi
			kill -0 "$REG_PID" 2>/dev/null || break
			sleep 0.05
		done
		echo "registry did not start on port $port (try $try):" >&2
		tail -n 5 "$REG_LOG" >&2 || true
		stop_registry
	done
	die "could not start docker-registry"
}

