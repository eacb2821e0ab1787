package sc.fiji.sd.cli;

import java.io.PrintWriter;
import java.io.StringWriter;

import picocli.CommandLine;
import sc.fiji.sd.model.ModelProvider;

/** Runs the real command line with stdout and stderr captured. */
record CliRun(int exitCode, String out, String err) {

	/**
	 * The tests' model provider: one for all runs of the test JVM, so each test does not load the model again (a real
	 * run, {@link Main#run}, owns a provider of its own and closes it at the end).
	 */
	static final ModelProvider MODELS = new ModelProvider();

	static CliRun of(String... args) {
		StringWriter out = new StringWriter(), err = new StringWriter();
		CommandLine cl = Main.commandLine(MODELS);
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
