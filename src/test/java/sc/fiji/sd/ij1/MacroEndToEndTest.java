package sc.fiji.sd.ij1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import sc.fiji.sd.imagej.Settings;


/**
 * Recorded-style macro lines for each command, run by the real ImageJ 1 macro interpreter (headless, ij1-patcher)
 * on a small random-weight model at 64×64 with few steps: the result windows (title, size, Info), replay to identical
 * pixels, and the input image left alone. Results come back through system properties set by the macros.
 */
class MacroEndToEndTest {

	private static HeadlessImageJ ij;

	/** Macro helper: report(key, value) sets the system property sd.test.key for the test to read. */
	private static final String REPORT = "function report(key, value) { call(\"java.lang.System.setProperty\", "
		+ "\"sd.test.\" + key, \"\" + value); }\n";

	@BeforeAll
	static void startImageJWithASmallModel() {
		ij = HeadlessImageJ.shared();
		String folder = SmallModel.folder().toString();
		String printed = ij.runMacro("run(\"Stable Diffusion Settings...\", \"model=[" + folder
			+ "] device=cpu threads=0\");");
		assertTrue(printed.contains("Native size") && printed.contains("ONNX Runtime"), printed);
	}

	private static String run(String macro) {
		String printed = ij.runMacro(REPORT + macro);
		assertTrue(!printed.contains("Macro Error"), printed);
		return printed;
	}

	private static String result(String key) {
		return System.getProperty("sd.test." + key);
	}

	private static final String TEXT_TO_IMAGE = "run(\"Text to Image...\", \"prompt=[a red circle] negative=[] "
		+ "steps=3 guidance=7 seed=42 width=64 height=64 scheduler=[Euler a] batch=1\");\n";

	@Test
	void textToImageOpensATitledWindowWithItsProvenanceAndReplaysToTheSamePixels() {
		run(TEXT_TO_IMAGE + """
			report("title", getTitle());
			report("size", "" + getWidth() + "x" + getHeight() + "x" + nSlices + " " + bitDepth());
			report("info", getMetadata("Info"));
			first = getImageID();
			""" + TEXT_TO_IMAGE + """
			second = getImageID();
			imageCalculator("Difference create", first, second);
			getStatistics(area, mean, min, max);
			report("difference", max);
			report("windows", nImages);
			close("*");
			""");
		assertEquals("a red circle (seed 42)", result("title"));
		assertEquals("64x64x1 24", result("size"));
		String info = result("info");
		assertTrue(info.startsWith("AI-generated"), info);
		assertTrue(info.contains("a red circle\n") && info.contains("Seed: 42") && info.contains("Euler a"), info);
		assertEquals("0", result("difference"), "the same recorded line gives the same pixels");
		assertEquals("3", result("windows"));
	}

	@Test
	void aModelNamedInTheMacroIsUsedInsteadOfTheOneInSettings() {
		// The settings name the int64-timestep fixture (see above); this line names another model folder.
		java.nio.file.Path other = SmallModel.folder("optimum");
		run("run(\"Text to Image...\", \"prompt=[a red circle] steps=2 seed=5 model=[" + other + "] device=cpu\");\n"
			+ """
			report("named", getMetadata("Info"));
			run("Text to Image...", "prompt=[a red circle] steps=2 seed=5");
			report("usual", getMetadata("Info"));
			close("*");
			""");
		assertTrue(result("named").contains("Model: " + other.getFileName()), result("named"));
		assertTrue(result("usual").contains("Model: " + SmallModel.folder().getFileName()), result("usual"));
	}

	/** The same keys as Fiji's Settings command: decoder=[DIR] and tinyfinal; decoder=[] clears it. */
	@Test
	void settingsTakeATinyDecoderAndItsUse() {
		String model = SmallModel.folder().toString();
		String decoder = java.nio.file.Path.of("models", "tiny-sd-shapes-taesd").toAbsolutePath().toString();
		String settings = "run(\"Stable Diffusion Settings...\", \"model=[" + model + "] device=cpu threads=0 ";
		String printed = run(settings + "decoder=[" + decoder + "] tinyfinal\");\n"
			+ "print(\"decoder: \" + call(\"ij.Prefs.get\", \"stable.diffusion.decoder\", \"?\") + \" final: \" "
			+ "+ call(\"ij.Prefs.get\", \"stable.diffusion.decoder.final\", \"?\"));\n"
			+ settings + "decoder=[]\");\n"
			+ "print(\"cleared: [\" + call(\"ij.Prefs.get\", \"stable.diffusion.decoder\", \"?\") + \"] final: \" "
			+ "+ call(\"ij.Prefs.get\", \"stable.diffusion.decoder.final\", \"?\"));\n");
		assertTrue(printed.contains("decoder: " + decoder + " final: true"), printed);
		assertTrue(printed.contains("cleared: [] final: false"), printed);
	}

	@Test
	void aBatchIsAStackWithOneSeedPerSlice() {
		run("""
			run("Text to Image...", "prompt=dots steps=2 seed=7 width=64 height=64 batch=2");
			report("slices", nSlices);
			setSlice(2);
			report("label", getInfo("slice.label"));
			close("*");
			""");
		assertEquals("2", result("slices"));
		assertTrue(result("label").startsWith("seed 8"), result("label"));
	}

	@Test
	void imageToImageTakesTheTileKeyForTiledDiffusion() {
		run("""
			newImage("input", "RGB ramp", 128, 64, 1);
			run("Image to Image...", "prompt=[a blue square] steps=2 seed=3 strength=0.5 tile=64");
			report("size", "" + getWidth() + "x" + getHeight());
			report("info", getMetadata("Info"));
			close("*");
			""");
		assertEquals("128x64", result("size"));
		assertTrue(result("info").contains("Tiled diffusion: 64, Tile overlap: 16"), result("info"));
	}

	@Test
	void imageToImageReturnsTheInputSizeAndLeavesTheInputAlone() {
		run("""
			newImage("input", "8-bit ramp", 70, 50, 1);
			before = getValue("Mean");
			run("Image to Image...", "prompt=[a blue square] steps=4 seed=3 strength=0.5 scheduler=DDIM batch=1");
			report("title", getTitle());
			report("size", "" + getWidth() + "x" + getHeight() + " " + bitDepth());
			selectImage("input");
			unchanged = getValue("Mean") == before;
			report("unchanged", unchanged);
			report("windows", nImages);
			close("*");
			""");
		assertEquals("a blue square (seed 3)", result("title"));
		assertEquals("70x50 8", result("size"), "an 8-bit input gives an 8-bit result");
		assertEquals("1", result("unchanged"));
		assertEquals("2", result("windows"), "the input and the result");
	}

	@Test
	void aSixteenBitStackIsProcessedSliceBySliceWithTheStackKey() {
		run("""
			newImage("cells", "16-bit ramp", 64, 64, 3);
			setSlice(2);
			run("Image to Image...", "prompt=x steps=2 seed=1 strength=0.5");
			report("current", nSlices);
			selectImage("cells");
			run("Image to Image...", "prompt=x steps=2 seed=1 strength=0.5 stack");
			report("all", "" + nSlices + " " + bitDepth());
			close("*");
			""");
		assertEquals("1", result("current"), "without the key: the current slice");
		assertEquals("3 16", result("all"));
	}

	@Test
	void inpaintChangesOnlyTheSelection() {
		run("""
			newImage("photo", "RGB ramp", 64, 64, 1);
			makeRectangle(16, 16, 24, 24);
			run("Inpaint...", "prompt=[a green dot] steps=3 seed=5 strength=1 feather=0");
			result = getImageID();
			selectImage("photo");
			report("roi", selectionType());
			outside = getPixel(2, 60);
			inside = getPixel(28, 28);
			selectImage(result);
			same = getPixel(2, 60) == outside;
			changed = getPixel(28, 28) != inside;
			report("same outside", same);
			report("changed inside", changed);
			close("*");
			""");
		assertEquals("0", result("roi"), "the input keeps its rectangle");
		assertEquals("1", result("same outside"));
		assertEquals("1", result("changed inside"));
	}

	@Test
	void inpaintAtTheDefaultFeatherKeepsEveryPixelOutsideTheSelectionAtAnySize() {
		// 70 is not a multiple of the size step (the model runs at 64 and the result is resized back); 64 is. (The
		// other image types are covered, through the same code, by InpaintOutsideSelectionTest.)
		for (String image : new String[] { "RGB ramp\", 70, 70", "RGB ramp\", 64, 64", "8-bit ramp\", 70, 70" }) {
			run("newImage(\"photo\", \"" + image + ", 1);\n" + """
				makeRectangle(20, 17, 30, 24);
				run("Inpaint...", "prompt=[a green dot] steps=2 seed=5 strength=1 output=RGB");
				result = getImageID();
				selectImage("photo");
				w = getWidth(); h = getHeight();
				outside = newArray(w * h);
				grey = bitDepth() == 8;
				for (y = 0; y < h; y++) for (x = 0; x < w; x++) {
					v = getPixel(x, y);
					if (grey) v = (v << 16) | (v << 8) | v;
					outside[y * w + x] = v & 0xffffff;
				}
				selectImage(result);
				changed = 0; repainted = 0;
				for (y = 0; y < h; y++) for (x = 0; x < w; x++) {
					inside = x >= 20 && x < 50 && y >= 17 && y < 41;
					v = getPixel(x, y) & 0xffffff;
					if (!inside && v != outside[y * w + x]) changed++;
					if (inside && v != outside[y * w + x]) repainted++;
				}
				report("changed outside", changed);
				report("repainted", repainted);
				close("*");
				""");
			assertEquals("0", result("changed outside"), image);
			assertTrue(Integer.parseInt(result("repainted")) > 0, image);
		}
	}

	@Test
	void aCalibratedSixteenBitImageComesBackInItsTypeWithItsCalibrationOrAsRgbOnRequest() {
		run("""
			newImage("cells", "16-bit ramp", 70, 50, 1);
			run("Properties...", "channels=1 slices=1 frames=1 pixel_width=0.25 pixel_height=0.5 voxel_depth=1 unit=um");
			setMinAndMax(1000, 40000);
			makeRectangle(10, 10, 20, 20);
			run("Inpaint...", "prompt=[a cell] steps=2 seed=3 strength=1");
			getPixelSize(unit, pw, ph);
			getMinAndMax(min, max);
			report("typed", "" + bitDepth() + " " + unit + " " + pw + " " + ph + " " + min + " " + max);
			report("info", getMetadata("Info"));
			changed = 0;
			result = getImageID();
			for (y = 0; y < 50; y++) for (x = 0; x < 70; x++) {
				inside = x >= 10 && x < 30 && y >= 10 && y < 30;
				selectImage(result); v = getPixel(x, y);
				selectImage("cells"); if (!inside && v != getPixel(x, y)) changed++;
			}
			report("changed outside", changed);
			selectImage("cells");
			run("Image to Image...", "prompt=[a cell] steps=2 seed=3 strength=0.5 output=RGB");
			report("rgb", bitDepth());
			close("*");
			""");
		assertEquals("16 µm 0.25 0.5 1000 40000", result("typed"), "ImageJ writes um as µm");
		assertTrue(result("info").contains("Seed: 3"), result("info"));
		assertEquals("0", result("changed outside"), "16-bit values outside the selection kept exactly");
		assertEquals("24", result("rgb"));
	}

	@Test
	void eachChannelOfACompositeWithTheChannelsKey() {
		run("""
			newImage("two", "16-bit color-mode", 64, 64, 2, 1, 1);
			run("Image to Image...", "prompt=x steps=2 seed=1 strength=0.5 channels=each");
			report("each", "" + bitDepth() + " " + nSlices + " " + is("composite"));
			selectImage("two");
			run("Image to Image...", "prompt=x steps=2 seed=1 strength=0.5 channels=merged");
			report("merged", bitDepth());
			close("*");
			""");
		assertEquals("16 2 1", result("each"));
		assertEquals("24", result("merged"));
	}

	@Test
	void outpaintExtendsTheCanvasAndKeepsTheOriginal() {
		run("""
			newImage("photo", "8-bit ramp", 50, 40, 1);
			run("Outpaint...", "prompt=[a landscape] steps=2 seed=4 left=16 right=0 top=0 bottom=9");
			report("size", "" + getWidth() + "x" + getHeight() + " " + bitDepth());
			report("info", getMetadata("Info"));
			result = getImageID();
			changed = 0;
			for (y = 0; y < 40; y++) for (x = 0; x < 50; x++) {
				selectImage(result); v = getPixel(x + 16, y);
				selectImage("photo"); if (v != getPixel(x, y)) changed++;
			}
			report("changed", changed);
			close("*");
			""");
		assertEquals("66x49 8", result("size"));
		assertEquals("0", result("changed"), "every original pixel kept");
		assertTrue(result("info").contains("Outpaint: \"left 16, right 0, top 0, bottom 9\""), result("info"));
	}
}
