# Sourced by every jvs script: selects a JDK >= 25 (the FFM API) and exports
# JAVA_HOME, so nobody has to set it by hand. Order: $JAVA_HOME if it is new
# enough, then Temurin 25 at its Debian path, then any JDK under /usr/lib/jvm
# ($JVS_JVM_DIR stands for /usr/lib/jvm when set: the dependency helper's test).
# scripts/lib/deps.sh installs one when there is none. JVS_JRE_ONLY=1 (the compose lab's
# images: a jlink runtime, docker/Dockerfile) accepts a runtime without javac.
jvs_java_major() { # prints the feature version of the JDK at $1, or nothing
  [ -x "$1/bin/java" ] && { [ -x "$1/bin/javac" ] || [ "${JVS_JRE_ONLY:-}" = 1 ]; } || return 0
  # Its release file first (JDKs and jlink runtimes have one): every launch of bin/jvs-forwarder and
  # bin/jvs-agent comes here, and asking the JVM costs a JVM start. (POSIX sh: ./mvnw sources this.)
  jvs_release_major=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" 2>/dev/null)
  [ -z "$jvs_release_major" ] || { echo "$jvs_release_major"; return 0; }
  "$1/bin/java" -XshowSettings:properties -version 2>&1 |
    sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p'
}
jvs_select_jdk() {
  local cand v jvm=${JVS_JVM_DIR:-/usr/lib/jvm}
  for cand in "${JAVA_HOME:-}" "$jvm/temurin-25-jdk-amd64" "$jvm"/*; do
    [ -n "$cand" ] || continue
    v=$(jvs_java_major "$cand")
    if [ -n "$v" ] && [ "$v" -ge 25 ]; then
      export JAVA_HOME="$cand"
      export PATH="$JAVA_HOME/bin:$PATH"
      return 0
    fi
  done
  echo "jvs: a JDK >= 25 is needed (FFM API); none found in \$JAVA_HOME or $jvm. Install one (apt-get install temurin-25-jdk from Adoptium's repository, or openjdk-25-jdk-headless) or set JAVA_HOME." >&2
  return 1
}
jvs_select_jdk || exit 1
