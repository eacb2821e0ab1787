package sc.fiji.sd.cli;

import picocli.CommandLine.Option;
import sc.fiji.sd.onnx.OnnxEnvironment;

/** Mixin for every sub-command: {@code --verbose} shows stack traces and extra detail. */
public class VerboseOption {
	public boolean verbose;

	/** Also lets ONNX Runtime's own warnings reach stderr (otherwise only its fatal lines do). */
	@Option(names = "--verbose", description = "Show details, ONNX Runtime's own log lines and stack traces of errors.")
	void verbose(boolean verbose) {
		this.verbose = verbose;
		OnnxEnvironment.logWarnings(verbose);
	}
}
