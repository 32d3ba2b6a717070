//! Options from outside argv: `$PARALLEL` and profile files
//! (`~/.parallel/config`, `-J NAME`), and `--plain` to ignore them.

use assert_cmd::Command;

fn parx(home: &std::path::Path) -> Command {
    let mut c = Command::cargo_bin("parx").expect("parx");
    c.env("HOME", home)
        .env_remove("PARALLEL")
        .env_remove("PARALLEL_HOME")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("XDG_CONFIG_DIRS");
    c
}

#[test]
fn parallel_variable_adds_options_and_command_words() {
    let home = tempfile::tempdir().expect("tempdir");
    parx(home.path())
        .env("PARALLEL", "--tag -k")
        .args(["--dry-run", "echo", ":::", "a"])
        .assert()
        .code(0)
        .stdout("a\techo a\n");
    // Words after the options in $PARALLEL come before argv's command
    // (as GNU parallel: `PARALLEL='--tag echo' parallel x ::: a` runs
    // `echo x a`).
    parx(home.path())
        .env("PARALLEL", "--tag echo")
        .args(["--dry-run", "x", ":::", "a"])
        .assert()
        .stdout("a\techo x a\n");
    parx(home.path())
        .env("PARALLEL", "--tag")
        .args(["--plain", "--dry-run", "echo", ":::", "a"])
        .assert()
        .stdout("echo a\n");
    parx(home.path())
        .env("PARALLEL", "--nosuch")
        .args(["--dry-run", "echo", ":::", "a"])
        .assert()
        .code(255)
        .stderr("parx: unknown option '--nosuch' (see parx --help)\n");
}

#[test]
fn profile_files() {
    let home = tempfile::tempdir().expect("tempdir");
    let dir = home.path().join(".parallel");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(
        dir.join("config"),
        "# default profile\n--tagstring 'T {}'\n",
    )
    .expect("write");
    std::fs::write(dir.join("quoted"), "-q\n").expect("write");
    parx(home.path())
        .args(["--dry-run", "echo", ":::", "a"])
        .assert()
        .stdout("T a\techo a\n");
    // -J replaces the default profile.
    parx(home.path())
        .args(["-J", "quoted", "--dry-run", "echo", "a b", ":::", "c"])
        .assert()
        .stdout("echo 'a b' c\n");
    parx(home.path())
        .args(["--plain", "--dry-run", "echo", ":::", "a"])
        .assert()
        .stdout("echo a\n");
    // A profile that does not exist is skipped, as GNU parallel does.
    parx(home.path())
        .args(["-J", "missing", "--dry-run", "echo", ":::", "a"])
        .assert()
        .code(0)
        .stdout("echo a\n");
}
