package sc.fiji.sd.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The command line run as a real process (a fresh JVM): what only a whole process shows (crashes, exit codes, files left in tmp). */
record CliProcess(int exitCode, String out, String err) {

	/** Runs {@code Main args} in {@code workDir} with its own {@code java.io.tmpdir} ({@code workDir/tmp}). */
	static CliProcess run(Path workDir, String... args) throws IOException, InterruptedException {
		return runWithHeap(workDir, "1g", args);
	}

	/** As {@link #run}, with {@code -Xmx<heap>}. */
	static CliProcess runWithHeap(Path workDir, String heap, String... args) throws IOException, InterruptedException {
		Path tmp = Files.createDirectories(workDir.resolve("tmp"));
		List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
			"-Xmx" + heap, "-Djava.io.tmpdir=" + tmp, "-cp", System.getProperty("java.class.path"), Main.class.getName()));
		command.addAll(List.of(args));
		Path out = workDir.resolve("stdout.txt"), err = workDir.resolve("stderr.txt");
		Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectOutput(out.toFile())
			.redirectError(err.toFile()).start();
		if (!p.waitFor(5, TimeUnit.MINUTES)) {
			p.destroyForcibly();
			throw new IllegalStateException("the command line did not end within 5 minutes");
		}
		return new CliProcess(p.exitValue(), Files.readString(out), Files.readString(err));
	}
}
