package sc.fiji.sd.pipeline;

import java.util.Locale;

/**
 * Measures how long a cancel takes to stop a generation mid-step: the embedded model at 512×512 (a UNet call of a
 * few hundred milliseconds on two cores; ~8 s for SD 1.5), cancelled from another thread half-way through a step's
 * UNet call. Prints, per trial, the step time and the time from the cancel to the pipeline announcing the decode of
 * the last finished image (the UNet call's end), and to generate's return (after that decode).
 * <p>
 * {@code mvn -B -o -q test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt && java -cp
 * target/test-classes:target/classes:$(cat target/cp.txt) sc.fiji.sd.pipeline.CancelLatency [size] [trials]}
 */
public final class CancelLatency {

	public static void main(String[] args) throws Exception {
		int size = args.length > 0 ? Integer.parseInt(args[0]) : 512;
		int trials = args.length > 1 ? Integer.parseInt(args[1]) : 5;
		StableDiffusionPipeline p = TestModels.pipeline("embedded");
		p.generate(GenerationRequest.builder().prompt("warm-up").size(size, size).steps(1).seed(1).build(), null);
		for (int trial = 0; trial < trials; trial++) {
			long[] cancelledAt = { 0 }, decodeAt = { 0 };
			double[] stepSeconds = { 0 };
			Flag flag = new Flag();
			ProgressListener listener = new ProgressListener() {
				@Override
				public void stepFinished(StepProgress progress) {
					if (progress.step() != 1) return;
					stepSeconds[0] = progress.secondsPerStep();
					long delay = (long) (progress.secondsPerStep() * 500); // half-way through step 2's UNet call
					Thread t = new Thread(() -> {
						try {
							Thread.sleep(delay);
						}
						catch (InterruptedException e) {
							return;
						}
						cancelledAt[0] = System.nanoTime();
						flag.set = true;
					});
					t.setDaemon(true);
					t.start();
				}

				@Override
				public boolean isCanceled() {
					return flag.set;
				}

				@Override
				public void status(String message) {
					if (message.startsWith("Decoding") && decodeAt[0] == 0) decodeAt[0] = System.nanoTime();
				}
			};
			GenerationResult r = p.generate(GenerationRequest.builder().prompt("a red circle").size(size, size)
				.steps(10).seed(trial).scheduler("Euler").build(), listener);
			long end = System.nanoTime();
			System.out.printf(Locale.ROOT, "%dx%d trial %d: step %.0f ms, cancel -> UNet stopped %.0f ms, "
				+ "cancel -> result %.0f ms, interrupted %s%n", size, size, trial + 1, stepSeconds[0] * 1000,
				(decodeAt[0] - cancelledAt[0]) / 1e6, (end - cancelledAt[0]) / 1e6, r.interrupted());
		}
		TestModels.model("embedded").close();
	}

	private static final class Flag {
		volatile boolean set;
	}
}
