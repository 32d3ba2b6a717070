# parx's Perl co-process: evaluates {= perl expression =} replacement
# strings the way GNU parallel 20221122 does, for one whole parx run.
#
# Requests come on stdin, answers go to fd 3; both are frames of a kind
# byte and a little-endian u32 length, then that many bytes. Values are
# bytes (no decoding), so newlines, NULs and non-UTF-8 pass unchanged.
# EOF on stdin (parx is done, or was killed) ends the process.
#   C: u32 id, u32 eval number, code  -> O (compiled) or E message
#   E: u32 jobs, per job: u32 seq, slot, total, nargs, then nargs again
#      and the args (u32 len, bytes), u32 nevals twice, per eval: u32
#      expression id, argument index, number of arguments in @arg; its
#      top bit: reuse this job's earlier value of the same expression and
#      argument in this request while that value is true; the next bit:
#      compute a false value once more (GNU parallel's replace() after
#      its cache did not keep a false value)
#      -> R: per job: per eval: uq byte (0/1), u32 len, value, then a
#         skip byte (0/1); or, at the eval that died: byte 2, u32 len,
#         the die message, and nothing more.
package Arg;
# Compiled here, before any lexical variable of this file is declared, so
# an expression's `$n` is a package variable as in GNU parallel.
sub compile_expr { eval($_[0]) }

package CommandLine;
sub seq { $_[0]{seq} }
sub slot { $_[0]{slot} }
sub skip { $_[0]{skip} = 1 }

package main;
use POSIX ();
sub Q($) {
    local $_ = $_[0];
    if (/[^-_.+a-z0-9\/]/i) {
        s/'/'"'"'/g;
        $_ = "'$_'";
        s/^''//;
        s/''$//;
        return $_;
    } elsif ($_ eq "") {
        return "''";
    }
    return $_;
}
sub pQ($) {
    my $a = $_[0];
    defined $a and $a =~ s/[\\\"\$\@]/\\$&/go;
    return $a;
}
sub uniq(@) { return keys %{{ map { $_ => 1 } @_ }}; }

package Arg;
our (@arg, $JOB, $TOTAL, $UQ);
sub Q($) { ::Q($_[0]) }
sub pQ($) { ::pQ($_[0]) }
sub hash($) { eval "use B; 1;"; B::hash(@_) }
sub total_jobs() { $TOTAL }
sub skip() { $JOB->skip() }
sub slot() { $JOB->slot() }
sub seq() { $JOB->seq() }
sub uq() { $UQ = 1 }
sub yyyy_mm_dd_hh_mm_ss() { POSIX::strftime("%Y-%m-%dT%H:%M:%S", localtime(time())) }
sub yyyy_mm_dd_hh_mm() { POSIX::strftime("%Y-%m-%dT%H:%M", localtime(time())) }
sub yyyy_mm_dd() { POSIX::strftime("%Y-%m-%d", localtime(time())) }
sub hh_mm_ss() { POSIX::strftime("%H:%M:%S", localtime(time())) }
sub hh_mm() { POSIX::strftime("%H:%M", localtime(time())) }
sub yyyymmddhhmmss() { POSIX::strftime("%Y%m%d%H%M%S", localtime(time())) }
sub yyyymmddhhmm() { POSIX::strftime("%Y%m%d%H%M", localtime(time())) }
sub yyyymmdd() { POSIX::strftime("%Y%m%d", localtime(time())) }
sub hhmmss() { POSIX::strftime("%H%M%S", localtime(time())) }
sub hhmm() { POSIX::strftime("%H%M", localtime(time())) }

package ParxDriver;
binmode STDIN;
open(my $ANS, '>&=', 3) or die "parx perl driver: no answer pipe on fd 3: $!\n";
binmode $ANS;
my $trim = $ARGV[0] // 'n';
my @sub;
# @arg is set only when some expression may read it.
my $uses_arg = 0;

sub readn {
    my $n = $_[0];
    my $b = '';
    while (length($b) < $n) {
        my $r = sysread(STDIN, $b, $n - length($b), length($b));
        exit 0 unless $r;
    }
    return $b;
}

sub answer {
    my $out = $_[0];
    my $o = 0;
    while ($o < length $out) {
        my $w = syswrite($ANS, $out, length($out) - $o, $o);
        exit 0 unless defined $w;
        $o += $w;
    }
}

while (1) {
    my ($kind, $len) = unpack('a V', readn(5));
    my $body = $len ? readn($len) : '';
    if ($kind eq 'C') {
        my ($id, $n, $code) = unpack('V V a*', $body);
        my $s = Arg::compile_expr("package Arg;\n#line 1 \"(eval $n)\"\n" .
                     'sub { no strict; no warnings; my $job = shift; ' .
                     $code . ' }');
        if ($s) {
            $sub[$id] = $s;
            $uses_arg ||= $code =~ /arg/;
            answer(pack('a V', 'O', 0));
        } else {
            my $m = $@;
            answer(pack('a V', 'E', length $m) . $m);
        }
        next;
    }
    my $out = '';
    # The whole batch in one unpack: seq slot total nargs args... nevals
    # (id arg visible)...
    my @f = unpack('V/(V4 V/(V/a*) V V/(V3))', $body);
    my $i = 0;
    JOB: while ($i < @f) {
        my ($seq, $slot, $total, $nargs) = @f[$i .. $i + 3];
        my $a0 = $i + 4;
        my $nev = $f[$a0 + $nargs];
        my $e = $a0 + $nargs + 1;
        $i = $e + 3 * $nev;
        my $job = bless { seq => $seq, slot => $slot }, 'CommandLine';
        $Arg::JOB = $job;
        $Arg::TOTAL = $total;
        my $visible = -1;
        # GNU parallel's cache: a value is reused only while it is true.
        my %cache;
        my ($id, $ai, $v, $flags, $tries, $packed);
        for (; $e < $i; $e += 3) {
            ($id, $ai, $v) = @f[$e .. $e + 2];
            $flags = $v & 0xc0000000;
            if ($flags) {
                $v &= 0x3fffffff;
                if ($flags & 0x80000000) {
                    $packed = $cache{"$id $ai"};
                    if ($packed) {
                        $out .= $packed;
                        next;
                    }
                }
            }
            if ($uses_arg and $v != $visible) {
                @Arg::arg = (undef, @f[$a0 .. $a0 + $v - 1]);
                $visible = $v;
            }
            $tries = ($flags & 0x40000000) ? 2 : 1;
          EVAL: {
                $_ = $f[$a0 + $ai];
                if ($trim ne 'n') {
                    s/^\s+// if $trim ne 'r';
                    s/\s+$// if $trim ne 'l';
                }
                if (not eval { $sub[$id]->($job); 1 }) {
                    $out .= pack('C V/a*', 2, $@);
                    last JOB;
                }
                $_ = '' unless defined $_;
                redo EVAL if not $_ and --$tries;
            }
            utf8::encode($_) if utf8::is_utf8($_);
            if ($Arg::UQ) {
                $packed = pack('C V/a*', 1, $_);
                $Arg::UQ = 0;
            } else {
                $packed = pack('C V/a*', 0, $_);
            }
            $cache{"$id $ai"} = $packed if $flags & 0x80000000 and $_;
            $out .= $packed;
        }
        $out .= $job->{skip} ? "\1" : "\0";
    }
    answer(pack('a V', 'R', length $out) . $out);
}
