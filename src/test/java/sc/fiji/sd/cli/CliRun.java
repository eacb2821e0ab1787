package sc.fiji.sd.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

import picocli.CommandLine;

/** Runs the real command line with stdout and stderr captured. */
record CliRun(int exitCode, String out, String err) {

	static CliRun of(String... args) {
		StringWriter out = new StringWriter(), err = new StringWriter();
		CommandLine cl = Main.commandLine();
		cl.setOut(new PrintWriter(out, true));
		cl.setErr(new PrintWriter(err, true));
		int code = cl.execute(args);
		return new CliRun(code, out.toString(), err.toString());
	}

	/** A user-facing error: one "error:" message, no stack trace. */
	boolean cleanError() {
		return err.startsWith("error: ") && !err.contains("\tat ") && !err.contains("Exception");
	}
}
