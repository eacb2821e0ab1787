package sc.fiji.sd.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.scijava.Context;
import org.scijava.command.CommandModule;
import org.scijava.command.CommandService;

import ij.ImagePlus;
import ij.process.ColorProcessor;
import sc.fiji.sd.fiji.SavePngCommand;
import sc.fiji.sd.imagej.Generation;
import sc.fiji.sd.imagej.Provenance;
import sc.fiji.sd.provenance.PngReader;

/**
 * Every PNG we write passes an independent validator, Debian's {@code pngcheck} (skipped, with a message, where it
 * is not installed: {@code apt-get install pngcheck}; {@code .ci/run} installs it): from the command line, and from
 * Save as PNG with Parameters in ImageJ 1.x and in Fiji, with a prompt holding control characters and non-Latin-1
 * text.
 */
class PngValidatorTest {

	/** Tab, BEL, CR LF, a C1 control, Latin-1 and CJK: every case of the text-chunk rules. */
	static final String HOSTILE_PROMPT = "a red\tcircle\u0007 caf\u00e9\r\nsecond line \u0085 \u732b";

	/** The same in Latin-1 only, so that it goes into a tEXt chunk. */
	static final String HOSTILE_LATIN1_PROMPT = "a red\tcircle\u0007 caf\u00e9\r\nsecond line \u0085";

	@TempDir
	Path dir;

	@BeforeAll
	static void needsPngcheck() {
		boolean found = false;
		for (String folder : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator))
			found |= new File(folder, "pngcheck").canExecute();
		assumeTrue(found, "pngcheck is not installed (apt-get install pngcheck): the PNG validator test is skipped");
	}

	/** pngcheck's verdict: exit 0, and no warning (it only warns, exit 0, about control characters in text). */
	static void assertValid(Path png) throws Exception {
		Process p = new ProcessBuilder("pngcheck", "-v", png.toString()).redirectErrorStream(true).start();
		String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
		assertTrue(p.waitFor(60, TimeUnit.SECONDS));
		assertEquals(0, p.exitValue(), out);
		assertTrue(out.contains("No errors detected"), out);
		assertFalse(out.contains("control character") || out.contains("discouraged") || out.contains("WARNING"), out);
	}

	private static ImagePlus generated() {
		ImagePlus imp = new ImagePlus("generated", new ColorProcessor(16, 16));
		imp.setProperty(Generation.PARAMETERS_PROPERTY, HOSTILE_LATIN1_PROMPT
			+ "\nSteps: 2, Sampler: DDIM, CFG scale: 7, Seed: 1, Size: 16x16, Model: tiny-sd-shapes");
		return imp;
	}

	@Test
	void theCommandLinesPngPasses() throws Exception {
		Path out = dir.resolve("cli.png");
		CliRun r = CliRun.of("txt2img", "--prompt", HOSTILE_PROMPT, "--seed", "1", "--steps", "1", "--output",
			out.toString());
		assertEquals(0, r.exitCode(), r.err());
		assertValid(out);
		assertTrue(PngReader.readText(out).get("parameters").startsWith("a red circle\\u0007 caf\u00e9\nsecond line"));
	}

	@Test
	void imageJsSaveAsPngPasses() throws Exception {
		assertValid(Provenance.savePng(generated(), dir.resolve("ij1.png")));
	}

	@Test
	void fijisSaveAsPngPasses() throws Exception {
		Context context = new Context();
		try {
			File file = dir.resolve("fiji.png").toFile();
			CommandModule m = context.service(CommandService.class).run(SavePngCommand.class, true,
				Map.of("image", generated(), "path", file)).get();
			assertFalse(m.isCanceled(), m.getCancelReason());
			assertValid(file.toPath());
			assertNotNull(PngReader.readText(file.toPath()).get("AI-generated"));
		}
		finally {
			context.dispose();
		}
	}
}
