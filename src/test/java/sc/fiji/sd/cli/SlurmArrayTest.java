package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import sc.fiji.sd.batch.BatchResults;

/**
 * The batch on a real SLURM: a single-node cluster (munged, slurmctld, slurmd from Debian's packages) started in a
 * temporary state folder with its own munge socket and ports, a 4-task job array over a 12-row manifest, the merge,
 * and the outputs compared with a single-process run pixel for pixel. Skipped, with the reason, where SLURM is not
 * installed (.ci/run installs it) or cannot start here (e.g. not root).
 */
class SlurmArrayTest {

	static final int ROWS = 12, TASKS = 4;

	@TempDir
	static Path state;

	static final List<Process> daemons = new ArrayList<>();
	static Path conf;

	@BeforeAll
	static void startCluster() throws Exception {
		for (String tool : List.of("munged", "slurmctld", "slurmd", "sbatch", "sinfo", "scancel")) {
			Assumptions.assumeTrue(onPath(tool), "SLURM test skipped: '" + tool + "' is not installed (apt-get install "
				+ "slurmd slurmctld slurm-client munge; .ci/run does this)");
		}
		Assumptions.assumeTrue("root".equals(System.getProperty("user.name")),
			"SLURM test skipped: slurmd must run as root to start jobs, and this test runs as " + System.getProperty("user.name"));
		Path key = state.resolve("munge.key");
		byte[] bytes = new byte[1024];
		new SecureRandom().nextBytes(bytes);
		Files.write(key, bytes);
		Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("r--------"));
		Files.createDirectories(state.resolve("spool"));
		Files.createDirectories(state.resolve("state"));
		Path socket = state.resolve("munge.sock");
		daemons.add(start("munged", "munged", "-F", "--force", "--key-file=" + key, "--socket=" + socket, "--pid-file="
			+ state.resolve("munged.pid"), "--log-file=" + state.resolve("munged.log"), "--seed-file=" + state.resolve("munged.seed")));
		waitFor(() -> Files.exists(socket), 10, "munged did not create its socket");

		String host = run(10, "hostname", "-s").trim();
		int cpus = Runtime.getRuntime().availableProcessors();
		long memoryMb = memoryMb() - 1024;
		int[] ports = freePorts(2);
		conf = state.resolve("slurm.conf");
		Files.writeString(conf, String.join("\n", "ClusterName=local", "SlurmctldHost=" + host,
			"SlurmctldPort=" + ports[0], "SlurmdPort=" + ports[1], // not the default ports: another SLURM may run here
			"AuthType=auth/munge", "CredType=cred/munge", "AuthInfo=socket=" + socket,
			"ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "JobAcctGatherType=jobacct_gather/none",
			"SelectType=select/cons_tres", "SelectTypeParameters=CR_Core_Memory",
			"SlurmdSpoolDir=" + state.resolve("spool"), "StateSaveLocation=" + state.resolve("state"),
			"SlurmctldPidFile=" + state.resolve("ctld.pid"), "SlurmdPidFile=" + state.resolve("d.pid"),
			"SlurmctldLogFile=" + state.resolve("ctld.log"), "SlurmdLogFile=" + state.resolve("d.log"),
			"SlurmUser=root", "ReturnToService=2",
			"NodeName=" + host + " CPUs=" + cpus + " RealMemory=" + memoryMb + " State=UNKNOWN",
			"PartitionName=debug Nodes=" + host + " Default=YES MaxTime=INFINITE State=UP", ""));
		daemons.add(start("slurmctld", "slurmctld", "-D", "-f", conf.toString()));
		daemons.add(start("slurmd", "slurmd", "-D", "-f", conf.toString()));
		waitFor(() -> run(10, "sinfo", "-h", "-o", "%t").trim().equals("idle"), 30,
			"the node did not become idle; " + logs());
	}

	@AfterAll
	static void stopCluster() {
		// the daemons by their pids, the newest first (slurmd, slurmctld, munged)
		for (int i = daemons.size() - 1; i >= 0; i--) {
			Process p = daemons.get(i);
			p.destroy(); // SIGTERM to this pid
			try {
				if (!p.waitFor(15, TimeUnit.SECONDS)) p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
			}
			catch (InterruptedException e) {
				p.destroyForcibly();
				Thread.currentThread().interrupt();
			}
		}
		daemons.clear();
	}

	@Test
	void aJobArrayOfFourTasksEqualsASingleRun() throws Exception {
		Path work = Files.createDirectories(state.resolve("work"));
		Path manifest = BatchOutputs.manifest(work, ROWS, 2), out = work.resolve("array"), single = work.resolve("single");
		Path script = work.resolve("job.sh");
		String command = BatchOutputs.javaCommand("batch", "--manifest", manifest.toString(), "--out", out.toString())
			.stream().map(a -> "'" + a.replace("'", "'\\''") + "'").collect(Collectors.joining(" "));
		// no --shard: each task takes its shard from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT
		Files.writeString(script, "#!/bin/bash\nexec " + command + "\n");
		script.toFile().setExecutable(true);

		ProcessBuilder pb = new ProcessBuilder("sbatch", "--array=0-" + (TASKS - 1), "--wait", "-c1", "--mem=1200",
			"--job-name=sd-batch-test", "-o", work.resolve("task-%a.log").toString(), "-D", work.toString(),
			script.toString()).redirectErrorStream(true).redirectOutput(work.resolve("sbatch.log").toFile());
		pb.environment().put("SLURM_CONF", conf.toString());
		Process sbatch = pb.start();
		if (!sbatch.waitFor(300, TimeUnit.SECONDS)) {
			sbatch.destroyForcibly();
			run(10, "scancel", "--name=sd-batch-test");
			throw new AssertionError("the job array did not finish in 300 s; " + taskLogs(work));
		}
		assertEquals(0, sbatch.exitValue(), "sbatch: " + Files.readString(work.resolve("sbatch.log")) + taskLogs(work));
		for (int i = 0; i < TASKS; i++) {
			assertTrue(Files.exists(out.resolve("results-shard-" + i + "-of-" + TASKS + ".jsonl")), "task " + i + ": " + taskLogs(work));
		}

		CliRun merged = CliRun.of("batch", "--merge", "--out", out.toString());
		assertEquals(0, merged.exitCode(), merged.err());
		assertTrue(merged.out().contains("Merged " + TASKS + " shard manifest(s)"), merged.out());
		assertEquals(0, CliRun.of("batch", "--manifest", manifest.toString(), "--out", single.toString()).exitCode());
		BatchOutputs.assertSamePixels(single, out);
		assertEquals(Files.readString(single.resolve(BatchResults.MERGED)), Files.readString(out.resolve(BatchResults.MERGED)));
	}

	// ---- helpers ----

	interface Check {
		boolean ok() throws Exception;
	}

	static void waitFor(Check check, int seconds, String failure) throws Exception {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
		while (System.nanoTime() < deadline) {
			for (Process p : daemons) {
				if (!p.isAlive()) Assumptions.abort("SLURM test skipped: a daemon exited at start (" + p.info().command()
					.orElse("?") + "); " + logs());
			}
			try {
				if (check.ok()) return;
			}
			catch (IOException | RuntimeException e) {
				// not up yet
			}
			Thread.sleep(200);
		}
		Assumptions.abort("SLURM test skipped: " + failure);
	}

	static Process start(String name, String... command) throws IOException {
		ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
			.redirectOutput(state.resolve(name + ".out").toFile());
		if (conf != null) pb.environment().put("SLURM_CONF", conf.toString());
		return pb.start();
	}

	static String run(int seconds, String... command) throws IOException, InterruptedException {
		ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
		if (conf != null) pb.environment().put("SLURM_CONF", conf.toString());
		Process p = pb.start();
		if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
			p.destroyForcibly();
			throw new IOException(String.join(" ", command) + " timed out");
		}
		return new String(p.getInputStream().readAllBytes());
	}

	static boolean onPath(String tool) {
		for (String dir : (System.getenv("PATH") + ":/usr/sbin:/sbin").split(File.pathSeparator)) {
			if (Files.isExecutable(Path.of(dir, tool))) return true;
		}
		return false;
	}

	static long memoryMb() throws IOException {
		for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
			if (line.startsWith("MemTotal:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024;
		}
		return 2048;
	}

	static int[] freePorts(int n) throws IOException {
		int[] ports = new int[n];
		List<ServerSocket> open = new ArrayList<>();
		try {
			for (int i = 0; i < n; i++) {
				ServerSocket s = new ServerSocket(0);
				open.add(s);
				ports[i] = s.getLocalPort();
			}
		}
		finally {
			for (ServerSocket s : open) s.close();
		}
		return ports;
	}

	static String logs() {
		StringBuilder sb = new StringBuilder();
		for (String f : List.of("munged.out", "slurmctld.out", "slurmd.out", "ctld.log", "d.log")) {
			try {
				List<String> lines = Files.readAllLines(state.resolve(f));
				sb.append("\n--- ").append(f).append(":\n").append(String.join("\n", lines.subList(Math.max(0, lines.size() - 8), lines.size())));
			}
			catch (IOException e) {
				// not written
			}
		}
		return sb.toString();
	}

	static String taskLogs(Path work) throws IOException {
		StringBuilder sb = new StringBuilder();
		for (int i = 0; i < TASKS; i++) {
			Path log = work.resolve("task-" + i + ".log");
			if (Files.exists(log)) sb.append("\n--- task ").append(i).append(":\n").append(Files.readString(log));
		}
		return sb + logs();
	}

}
