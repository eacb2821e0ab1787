package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The variation keys {@code subseed} and {@code variation} through the real ImageJ 1 macro interpreter (headless,
 * ij1-patcher): written into the Info, a batch keeps its seed and counts the subseed up, and the second image's
 * parameters, typed back as a single run, give the same pixels; {@code hires hiressteps hiresstrength} run the hires
 * fix.
 */
class VariationHiresMacroTest {

	private static final String REPORT = "function report(key, value) { call(\"java.lang.System.setProperty\", "
		+ "\"sd.test.\" + key, \"\" + value); }\n";

	@BeforeAll
	static void startImageJWithASmallModel() {
		HeadlessImageJ.shared().runMacro("run(\"Stable Diffusion Settings...\", \"model=[" + SmallModel.folder()
			+ "] device=cpu threads=0\");");
	}

	private static String result(String key) {
		return System.getProperty("sd.test." + key);
	}

	@Test
	void variationKeysReachTheCoreAndReplay() {
		String printed = HeadlessImageJ.shared().runMacro(REPORT + """
			run("Text to Image...", "prompt=dots steps=2 seed=7 subseed=20 variation=0.4 width=64 height=64 batch=2");
			batch = getImageID();
			setSlice(2);
			report("label", getInfo("slice.label"));
			run("Duplicate...", "title=second");
			second = getImageID();
			run("Text to Image...", "prompt=dots steps=2 seed=7 subseed=21 variation=0.4 width=64 height=64");
			alone = getImageID();
			report("info", getMetadata("Info"));
			imageCalculator("Difference create", second, alone);
			getStatistics(area, mean, min, max);
			report("difference", max);
			run("Text to Image...", "prompt=dots steps=2 seed=7 subseed=21 variation=2 width=64 height=64");
			close("*");
			""");
		assertTrue(printed.contains("Variation strength must be between 0 and 1"), printed);
		assertTrue(result("label").startsWith("seed 7"), "the batch keeps its seed: " + result("label"));
		assertTrue(result("info").contains("Variation seed: 21, Variation seed strength: 0.4"), result("info"));
		assertEquals("0", result("difference"), "image 2 of the batch replays alone from its parameters");
	}

	@Test
	void hiresKeysRunTheHiresFix() {
		String printed = HeadlessImageJ.shared().runMacro(REPORT + """
			run("Text to Image...", "prompt=dots steps=2 seed=7 width=64 height=64 hires=2 hiressteps=3 hiresstrength=0.4");
			report("size", "" + getWidth() + "x" + getHeight());
			report("info", getMetadata("Info"));
			run("Text to Image...", "prompt=dots steps=2 seed=7 hires=9");
			close("*");
			""");
		assertTrue(printed.contains("Hires upscale must be between 1 (off) and 4"), printed);
		assertEquals("128x128", result("size"));
		assertTrue(result("info").contains("Size: 64x64, Model: ") && result("info").contains(", Denoising strength: 0.4, "
			+ "Hires upscale: 2, Hires steps: 3, Hires upscaler: Lanczos"), result("info"));
	}
}
